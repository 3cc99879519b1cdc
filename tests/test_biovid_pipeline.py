"""BioVid: synthetic writer -> reader -> prepared folder -> Datasets, protocols, and the documented errors."""
import json, shutil, warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from jmt.data.biovid.datasets import BioVidClips, BioVidFeatures, load_index
from jmt.data.biovid.raw import (bio_path, make_folds, read_bio, read_samples, read_subject_list, read_video_window, task_samples, video_path)
from jmt.data.biovid.prepare import prepare_biovid
from jmt.data.biovid.synthetic import BIOVID_CLASSES, write_synthetic_biovid


@pytest.fixture(scope='module')
def raw(tmp_path_factory):
    return write_synthetic_biovid(tmp_path_factory.mktemp('biovid') / 'raw', n_subjects=3, n_per_class=1, seed=1)


@pytest.fixture(scope='module')
def prepared(raw, tmp_path_factory):
    out = tmp_path_factory.mktemp('biovid') / 'prep'
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        summary = prepare_biovid(raw, out, progress=False)
    return out, summary


def test_writer_reader_dataset(raw, prepared):
    recs = read_samples(raw)
    assert len(recs) == 15 and {r['class_name'] for r in recs} == set(BIOVID_CLASSES)
    out, summary = prepared
    assert summary['n_prepared'] == 15 and summary['n_failed'] == 0
    assert summary['face']['detected'] + summary['face']['centre_crop'] == 15  # the fallback is always accounted for
    index = load_index(out)
    assert all(m['face'] in ('detected', 'centre') for m in index['samples'])
    ds = BioVidClips(out, task='binary')
    assert len(ds) == 6 * 4
    item = ds[7]
    assert item['frames'].shape == (3, 8, 112, 112) and item['frames'].dtype == torch.float32
    assert item['signal'].shape == (3, 384) and item['clip'] == 3
    rec = next(r for r in recs if r['sample'] == item['video'])
    assert item['label'].item() == int(rec['class_name'] == 'PA4') and item['subject'] == rec['subject']
    # the signal of a clip is the matching time span of the raw CSV, z-scored per window
    full = read_bio(bio_path(raw, rec))
    x = full[:, 2176:2560]
    z = (x - full.mean(1, keepdims=True)) / full.std(1, keepdims=True)
    np.testing.assert_allclose(item['signal'].numpy(), z, atol=1e-4)
    # the frames are the 2.0-5.0 s span of the video
    assert len(read_video_window(video_path(raw, rec))[0]) == np.load(out / 'frames' / f"{rec['sample']}.npy").shape[0] == 75
    feats = {m: {r['sample']: np.full((4, 512), i, np.float16) for i, r in enumerate(index['samples'])} for m in ('visual', 'bio')}
    fd = BioVidFeatures(feats, index['samples'], task='regression')
    assert len(fd) == 15 and fd[2]['label'].dtype == torch.float32 and fd[2]['x']['bio'].shape == (4, 512)


def test_pain_signal_is_in_the_prepared_gsr(prepared):
    "PA4 windows show a larger skin-conductance rise than BL1 windows of the same subject (the learnable cue)."
    out, _ = prepared
    index = load_index(out)
    rise = lambda r: (lambda s: s[-512:].mean() - s[:512].mean())(np.load(out / 'signals' / f"{r['sample']}.npy")[0])
    for subj in {r['subject'] for r in index['samples']}:
        by = {r['class_name']: rise(r) for r in index['samples'] if r['subject'] == subj}
        assert by['PA4'] > by['BL1']


def test_loso_never_shares_a_subject(prepared):
    out, _ = prepared
    samples = load_index(out)['samples']
    subj = {r['sample']: r['subject'] for r in samples}
    for task in ('binary', 'multiclass'):
        fo = make_folds(samples, 'loso', task)
        assert fo['subject_independent'] and fo['k'] == 3
        for f in fo['folds']:
            assert not {subj[s] for s in f['train']} & {subj[s] for s in f['test']}
        assert sorted(s for f in fo['folds'] for s in f['test']) == sorted(r['sample'] for r in task_samples(samples, task))
    kf = make_folds(samples, 'kfold', 'multiclass', k=5, seed=0)
    assert not kf['subject_independent'] and kf['seed'] == 0
    assert json.loads((out / 'folds_loso_binary.json').read_text()) == make_folds(samples, 'loso', 'binary')


def _edit(path, fn):
    lines = Path(path).read_text().splitlines()
    Path(path).write_text('\n'.join(fn(lines)) + '\n')


@pytest.mark.parametrize('name,edit,target,message', [
    ('missing column', lambda L: [L[0].replace('gsr', 'eda')] + L[1:], 'bio', "missing column(s) ['gsr']"),
    ('NaN run', lambda L: L[:200] + ['\t'.join([l.split('\t')[0], 'nan'] + l.split('\t')[2:]) for l in L[200:260]] + L[260:],
     'bio', "column 'gsr' has a run of 60 NaN"),
    ('wrong sampling rate', lambda L: [L[0]] + L[1::2], 'bio', 'sampling rate 256.0 Hz'),
    ('malformed samples.csv line', lambda L: L[:5] + [L[5].replace('\t', ' ', 1)] + L[6:], 'csv', 'samples.csv line 6'),
    ('missing video', None, 'video', '.mp4 not found'),
])
def test_malformed_input_errors(raw, tmp_path, name, edit, target, message):
    bad = tmp_path / 'raw'
    shutil.copytree(raw, bad)
    rec = read_samples(raw)[3]
    if target == 'bio': _edit(bio_path(bad, rec), edit)
    elif target == 'csv': _edit(bad / 'starting_point' / 'samples.csv', edit)
    else: video_path(bad, rec).unlink()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with pytest.raises((ValueError, FileNotFoundError)) as e:
            prepare_biovid(bad, tmp_path / 'out', progress=False)
    assert message in str(e.value)
    if target != 'csv': assert rec['sample'] in str(e.value)  # the error names the file


def test_reactive_subset_file(raw, tmp_path):
    recs = read_samples(raw)
    subjects = sorted({r['subject'] for r in recs})
    f = tmp_path / 'reactive.txt'
    f.write_text('# reactive subjects\n' + '\n'.join(subjects[:2]) + '\n')
    fo = make_folds(recs, 'loso', 'binary', subjects=read_subject_list(f, subjects), subjects_source=str(f))
    assert fo['n_subjects'] == 2 and 'reactive.txt' in fo['subset']
    f.write_text('nobody_w_99\n')
    with pytest.raises(ValueError, match='line 1'): read_subject_list(f, subjects)


def test_workers_write_the_same_bytes(raw, prepared, tmp_path):
    out, _ = prepared
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        prepare_biovid(raw, tmp_path / 'p2', progress=False, workers=2)
        with pytest.raises(ValueError, match='workers > 1 needs'):
            prepare_biovid(raw, tmp_path / 'p3', progress=False, workers=2, detector=lambda f: [])
    tree = lambda d: {str(p.relative_to(d)): p.read_bytes() for p in sorted(Path(d).rglob('*')) if p.is_file()}
    assert tree(tmp_path / 'p2') == tree(out)


def test_installed_opencv_ships_the_haar_face_detector():
    "OpenCV 5 dropped the bundled Haar cascades and every BioVid window fell back to a centre crop: settings.ini pins <5."
    from jmt.data.faces import haar_face_detector
    det = haar_face_detector()
    assert det is not None, "this OpenCV has no Haar cascades: install opencv-python-headless<5 (see settings.ini)"
    import numpy as np
    assert det(np.zeros((120, 160, 3), np.uint8)) == []  # runs, and finds no face in a black frame
