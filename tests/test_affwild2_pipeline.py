"""Aff-Wild2 writer -> reader -> prepared folder -> Datasets, on a small synthetic folder made on the fly."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from jmt.data.affwild2.raw import scan_affwild2, fold_split, person_to_raw
from jmt.data.affwild2.clips import AffWild2Clips, AffWild2Features, clip_ends, clip_frames, clips_to_frames
from jmt.data.affwild2.prepare import prepare_affwild2, load_index
from jmt.data.affwild2.synthetic import write_synthetic_affwild2


@pytest.fixture(scope='module')
def synth(tmp_path_factory):
    d = tmp_path_factory.mktemp('aw')
    truth = write_synthetic_affwild2(d/'raw', n_videos=8, n_frames=48, seed=3)
    prepare_affwild2(d/'raw', d/'prep', progress=False)
    return d, truth


def test_reader_maps_left_right_and_plain_names(synth):
    d, truth = synth
    es = scan_affwild2(d/'raw')
    assert sorted(es) == sorted(truth)
    two = [n for n in es if n.endswith('_left')]
    assert two, 'the synthetic set must contain a _left/_right pair'
    for n in two:
        r = n[:-5] + '_right'
        assert es[n].raw == es[r].raw and Path(es[n].raw).stem == person_to_raw(n)
    plain = [n for n in es if n.endswith('_right') and n[:-6] in es]  # the plain-name exception
    assert plain and es[plain[0]].raw == es[plain[0][:-6]].raw


def test_prepared_index_and_no_audio(synth):
    d, truth = synth
    ix = load_index(d/'prep')
    no_audio = [n for n, t in truth.items() if not t['has_audio']]
    assert no_audio and all(ix['videos'][n]['audio'] is None and not ix['videos'][n]['has_audio'] for n in no_audio)
    assert ix['summary']['no_audio'] == sorted({Path(truth[n]['raw_file']).stem for n in no_audio})
    for n, t in truth.items():
        assert ix['videos'][n]['n_frames'] == t['n_frames']
        assert ix['videos'][n]['missing_crops'] == len(t['missing'])
    # one audio file per RAW video
    assert len(list((d/'prep'/'audio').glob('*.npy'))) == len({t['raw_file'] for t in truth.values() if t['has_audio']})


def test_folds_are_disjoint_by_video(synth):
    d, truth = synth
    folds = json.loads((d/'prep'/'folds.json').read_text())
    cv = folds['cv']['folds']
    assert len(cv) == 5
    labelled = sorted(n for n, t in truth.items() if t['split'] != 'test')
    assert sorted(n for f in cv for n in f) == labelled
    raws = [{truth[n]['raw_file'] for n in f} for f in cv]
    for i in range(5):
        for j in range(i+1, 5): assert not raws[i] & raws[j], 'a raw video (a _left/_right pair) is split across folds'
    tr, va = fold_split(folds, 0)
    assert not set(tr) & set(va)
    tr, va = fold_split(folds)
    assert va == sorted(n for n, t in truth.items() if t['split'] == 'val')
    assert not {truth[n]['raw_file'] for n in tr} & {truth[n]['raw_file'] for n in va}


def test_raw_clip_dataset_shapes_and_masks(synth):
    d, truth = synth
    ds = AffWild2Clips(d/'prep', 'train', clip_stride=8, img_size=32)
    b = next(iter(DataLoader(ds, batch_size=3)))
    assert b['frames'].shape == (3, 3, 8, 32, 32) and b['frames'].dtype == torch.float32
    assert b['frame_mask'].shape == (3, 8) and b['mel'].shape[:3] == (3, 1, 64)
    assert b['label'].shape == (3, 2) and b['label_mask'].dtype == torch.bool
    # every clip's frame mask equals "crop file exists", for every train person
    for n in ds.names:
        for k, e in enumerate(ds.ends[n]):
            if set(clip_frames(int(e))) & set(truth[n]['missing']):
                it = ds[ds.items.index((n, k))]
                want = [f not in truth[n]['missing'] for f in clip_frames(int(e))]
                assert it['frame_mask'].tolist() == want
                black = it['frames'][:, ~it['frame_mask']]
                assert torch.allclose(black, black.flatten(1)[:, :1].view(3, 1, 1, 1).expand_as(black))
                break
    no_audio = next(n for n in ds.names if not truth[n]['has_audio'])
    it = ds[ds.items.index((no_audio, 1))]
    assert it['audio_ok'] is False and torch.isfinite(it['mel']).all() and it['mel'].std() < 1e-5
    assert ds[0]['audio_ok'] is True and ds[0]['mel'].std() > .1
    # -5 frames are masked labels, not (0, 0) targets
    for n in ds.names:
        for k, e in enumerate(ds.ends[n]):
            if int(e) in truth[n]['invalid']:
                assert not ds[ds.items.index((n, k))]['label_mask'].any()


def test_feature_dataset_sequences(synth):
    d, truth = synth
    ix = load_index(d/'prep')
    ncl = {n: len(clip_ends(v['n_frames'], 8)) for n, v in ix['videos'].items()}
    feats = {m: {n: np.full((c, 512), i, np.float16) + np.arange(c, dtype=np.float16)[:, None] for i, (n, c) in enumerate(ncl.items())}
             for m in ('visual', 'audio')}
    fd = AffWild2Features(ix, feats, 'val', seq_len=4, clip_stride=8)
    assert fd.names == sorted(n for n, t in truth.items() if t['split'] == 'val')
    b = next(iter(DataLoader(fd, batch_size=2)))
    assert b['x']['visual'].shape == (2, 4, 512) and b['mask']['audio'].shape == (2, 4)
    assert b['label'].shape == (2, 4, 2) and b['valid'].shape == (2, 4)
    # rows follow the clip enumeration: row k of the cache = clip k
    for i in range(len(fd)):
        it = fd[i]; n, s = fd.items[i]; L = int(it['valid'].sum())
        assert s == it['start'] and L == min(4, ncl[n] - s)
        assert torch.equal(it['x']['audio'][:L, 0], torch.from_numpy(feats['audio'][n][s:s+L, 0].astype(np.float32)))
        assert (it['x']['audio'][L:] == 0).all() and not it['mask']['audio'][L:].any()
        assert (it['end'][:L].numpy() == clip_ends(truth[n]['n_frames'], 8)[s:s+L]).all()
    # per-frame expansion of per-clip predictions covers every frame
    assert clips_to_frames(np.arange(ncl[n]), truth[n]['n_frames'], 8).shape == (truth[n]['n_frames'],)
