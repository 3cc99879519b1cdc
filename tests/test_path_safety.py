"""Names read from the datasets' own files never lead out of their folders (issue 21, item 1): a traversal name in BioVid's
samples.csv, an ABAW test list or sample submission, a prepared index or a run's predict.json is refused with exit status
1 and one line naming the file, the line and the name, and nothing is written, inside or outside the data folder."""
import json, shutil
from pathlib import Path

import pytest

from jmt.cli.core import run_cli
from jmt.core import UnsafeNameError


def _prepare(argv):
    "`jmt-prepare ARGV` in-process (as the console script runs it): the exit status."
    from jmt.cli.prepare import prepare
    return run_cli(prepare.__wrapped__, [str(a) for a in argv])


def _files(d:Path) -> set[str]:
    return {str(p.relative_to(d)) for p in d.rglob('*') if p.is_file() or p.is_symlink()}


@pytest.fixture(scope='module')
def biovid_raw(tmp_path_factory):
    from jmt.data.biovid.synthetic import write_synthetic_biovid
    d = tmp_path_factory.mktemp('bv') / 'raw'
    write_synthetic_biovid(d, n_subjects=1, n_per_class=1)
    return d


def _evil_biovid(tmp, raw, sample):
    "A copy of `raw` whose first window is named `sample`; where a traversal name points, the window's real files are put."
    data = tmp / 'data'; r = data / 'raw'; shutil.copytree(raw, r)
    csv = r / 'starting_point' / 'samples.csv'
    lines = csv.read_text().splitlines()
    head = lines[0].split('\t'); row = lines[1].split('\t')
    subj, old = row[head.index('subject_name')], row[head.index('sample_name')]
    row[head.index('sample_name')] = sample
    lines[1] = '\t'.join(row); csv.write_text('\n'.join(lines) + '\n')
    for src, dst in ((r / 'video' / subj / f'{old}.mp4', r / 'video' / subj / f'{sample}.mp4'),
                     (r / 'biosignals_filtered' / subj / f'{old}_bio.csv', r / 'biosignals_filtered' / subj / f'{sample}_bio.csv')):
        if not Path(sample).is_absolute(): dst.parent.mkdir(parents=True, exist_ok=True); shutil.copy(src, dst)  # the exploit works
    return data


@pytest.mark.parametrize('sample', ['../../../escaped/pwn', 'sub/pwn', '/abs/escaped/pwn'])
def test_biovid_sample_name_cannot_leave_the_folders(tmp_path, biovid_raw, capsys, sample):
    data = _evil_biovid(tmp_path, biovid_raw, sample)
    before = _files(tmp_path)
    assert _prepare(['--dataset', 'biovid', '--data', data, '--img_size', 16, '--quiet']) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'samples.csv line 2: sample_name' in err[0] and repr(sample) in err[0], err
    after = _files(tmp_path)
    assert not [f for f in after - before if not f.endswith('.lock')], sorted(after - before)  # nothing written, inside or outside
    assert not list(tmp_path.rglob('pwn.npy')) and not list(tmp_path.rglob('pwn.json'))


def test_biovid_subject_name_is_checked(tmp_path, biovid_raw):
    from jmt.data.biovid.raw import read_samples
    r = tmp_path / 'raw'; shutil.copytree(biovid_raw, r)
    csv = r / 'starting_point' / 'samples.csv'; lines = csv.read_text().splitlines()
    head = lines[0].split('\t'); row = lines[3].split('\t'); row[head.index('subject_name')] = '..'
    lines[3] = '\t'.join(row); csv.write_text('\n'.join(lines) + '\n')
    with pytest.raises(UnsafeNameError, match=r"samples.csv line 4: subject_name '\.\.'"): read_samples(r)


@pytest.fixture(scope='module')
def affwild2_raw(tmp_path_factory):
    from jmt.data.affwild2.synthetic import write_synthetic_affwild2
    d = tmp_path_factory.mktemp('aw') / 'raw'
    write_synthetic_affwild2(d, n_videos=5, n_frames=24, n_val=1, n_test=1)
    return d


@pytest.mark.parametrize('entry', ['../../escaped/pwn', '..', '/abs/pwn'])
def test_affwild2_test_list_entry_is_refused(tmp_path, affwild2_raw, capsys, entry):
    from jmt.data.affwild2.synthetic import TEST_LIST
    data = tmp_path / 'data'; shutil.copytree(affwild2_raw, data / 'raw')
    tl = data / 'raw' / TEST_LIST; tl.write_text(tl.read_text() + entry + '\n')
    before = _files(tmp_path)
    assert _prepare(['--data', data, '--test_list', tl, '--quiet']) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f'{tl} line 2' in err[0] and repr(entry) in err[0], err
    assert not [f for f in _files(tmp_path) - before if not f.endswith('.lock')]


def test_affwild2_sample_submission_person_is_refused(tmp_path, affwild2_raw):
    from jmt.data.affwild2.raw import read_test_sample
    from jmt.data.affwild2.synthetic import TEST_SAMPLE
    p = tmp_path / TEST_SAMPLE; shutil.copy(affwild2_raw / TEST_SAMPLE, p)
    p.write_text(p.read_text() + '../00001.jpg,0,0\n')
    n = len(p.read_text().splitlines())
    with pytest.raises(UnsafeNameError, match=f"line {n}: person '..'"): read_test_sample(p)


def test_prepared_index_paths_stay_inside(tiny_affwild2_prepared, tmp_path):
    from jmt.data.affwild2.prepare import load_index
    d = tmp_path / 'prepared'; shutil.copytree(tiny_affwild2_prepared, d)
    idx = json.loads((d / 'index.json').read_text()); name = sorted(idx['videos'])[0]
    idx['videos'][name]['audio'] = '../../escaped/pwn.npy'
    (d / 'index.json').write_text(json.dumps(idx))
    with pytest.raises(UnsafeNameError, match=r"index.json: audio of .* '\.\./\.\./escaped/pwn.npy' leads out of"): load_index(d)


def test_predict_bundle_paths_stay_inside(tmp_path):
    from jmt.predict.bundle import load_run
    run = tmp_path / 'run'; run.mkdir(); (tmp_path / 'escaped').mkdir()
    import torch; torch.save({}, tmp_path / 'escaped' / 'w.pt')
    from jmt.core import file_sha256
    bundle = dict(format=1, model=dict(name='jmt', kwargs={}, weights='../escaped/w.pt', weights_sha256=file_sha256(tmp_path / 'escaped' / 'w.pt')),
                  mods=['visual', 'audio'], seq_len=4, clip={}, feature_dtype='float16', backbones={}, standardize=None,
                  postprocess=dict(windows=None, clip=True))
    (run / 'predict.json').write_text(json.dumps(bundle))
    with pytest.raises(UnsafeNameError, match=r"predict.json: model weights '\.\./escaped/w.pt' leads out of"): load_run(run, device='cpu')
    from jmt.models.registry import make_model  # a real fusion checkpoint: the statistics are read after the model
    torch.save(make_model('jmt', mods=('visual', 'audio')).state_dict(), run / 'best.pt')
    bundle['model'].update(weights='best.pt', weights_sha256=file_sha256(run / 'best.pt'))
    bundle['standardize'] = dict(file='../escaped/w.pt', sha256='0')
    (run / 'predict.json').write_text(json.dumps(bundle))
    with pytest.raises(UnsafeNameError, match=r"predict.json: standardisation statistics '\.\./escaped/w.pt'"): load_run(run, device='cpu')


def test_feature_index_video_name_is_checked(tmp_path):
    from jmt.features.cache import load_features
    f = tmp_path / 'cache' / 'audio'; f.mkdir(parents=True)
    (f / 'index.json').write_text(json.dumps(dict(modality='audio', dim=4, videos={'../../pwn': 1}, records={})))
    with pytest.raises(UnsafeNameError, match=r"index.json: video '\.\./\.\./pwn'"): load_features(tmp_path / 'cache', 'audio', verify=False)


def test_biovid_prepared_index_names_are_checked(tiny_biovid_prepared, tmp_path):
    from jmt.data.biovid.datasets import load_index
    d = tmp_path / 'prepared'; shutil.copytree(tiny_biovid_prepared, d)
    idx = json.loads((d / 'index.json').read_text()); idx['samples'][0]['sample'] = '../../pwn'
    (d / 'index.json').write_text(json.dumps(idx))
    with pytest.raises(UnsafeNameError, match=r"index.json: sample '\.\./\.\./pwn'"): load_index(d)
