"""The real raw-clip Datasets (`AffWild2Clips`, `BioVidClips`) provide `clip_keys`: a resumed feature extraction reads
(`__getitem__`) only the clips of unfinished videos, and ends with the same cache as an uninterrupted run."""
import numpy as np
import pytest

from jmt.features.backbones import make_backbone
from jmt.core import set_seed
from jmt.data.biovid.datasets import BioVidClips
from jmt.data.affwild2.clips import AffWild2Clips
from jmt.features.cache import clip_keys, extract_features, load_features, read_index
from jmt.features.stats import clip_settings

CASES = {  # dataset: (class, fixture, modality, clip settings, backbone kwargs) -- the two cheap backbones
    'affwild2': (AffWild2Clips, 'tiny_affwild2_prepared', 'audio', dict(clip_stride=16), {}),
    'biovid': (BioVidClips, 'tiny_biovid_prepared', 'bio', dict(task='multiclass', n_clips=2, channels=['gsr']), dict(in_channels=1)),
}


def _counting(cls, *args, fail_at=None, **kw):
    "An instance of `cls` that records every index it loads and raises at `fail_at` (a job killed there)."
    class Counting(cls):
        def __getitem__(self, i):
            if i == fail_at: raise RuntimeError(f'killed at item {i}')
            self.read.append(i)
            return super().__getitem__(i)
    ds = Counting(*args, **kw); ds.read = []
    return ds


@pytest.mark.parametrize('dataset', list(CASES))
def test_resumed_extraction_reads_only_unfinished_videos(dataset, request, tmp_path):
    cls, fixture, mod, kw, bkw = CASES[dataset]
    prep = request.getfixturevalue(fixture)
    make = lambda **k: _counting(cls, prep, modalities=(mod,), **kw, **k)
    ds = make()
    keys = [(o['video'], o['clip']) for o in map(ds.__getitem__, range(len(ds)))]  # what the items say (loads them all)
    videos = list(dict.fromkeys(v for v, _ in keys))
    assert len(videos) >= 3 and all(n > 1 for n in map([v for v, _ in keys].count, videos))
    set_seed(0)
    bb = make_backbone(mod, 'random', **bkw)
    settings = clip_settings(ds)  # what a cache of these clips records
    full = extract_features(make(), mod, tmp_path / 'full', bb, settings, batch_size=2, progress=False)

    kill = keys.index((videos[2], 1))  # inside the third video: the first two are finished
    with pytest.raises(RuntimeError, match='killed'):
        extract_features(make(fail_at=kill), mod, tmp_path / 'res', bb, settings, batch_size=1, progress=False)
    done = set(read_index(tmp_path / 'res', mod)['videos'])
    assert done == set(videos[:2])
    ds = make()
    extract_features(ds, mod, tmp_path / 'res', bb, settings, batch_size=2, progress=False)
    assert sorted(ds.read) == [i for i, (v, _) in enumerate(keys) if v not in done], \
        f'the resumed run loaded items of finished videos {sorted({keys[i][0] for i in ds.read} & done)}'
    a, b = load_features(tmp_path / 'res', mod, settings), load_features(full.parent, mod, settings)
    assert sorted(a) == sorted(b) == sorted(videos)
    for v in a:  # the same fp32 values up to fp16 rounding (batch composition may differ)
        np.testing.assert_allclose(a[v].astype(np.float32), b[v].astype(np.float32), rtol=2e-3, atol=1e-4)
    ds = make()
    assert clip_keys(ds) == keys and ds.read == []  # the same (video, clip) of every index, listed without loading anything
