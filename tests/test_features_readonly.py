"""Cached features are memory-mapped read-only: serving them must neither warn (torch's 'not writable' UserWarning on
every item) nor hand out tensors that alias the cache."""
import warnings

import numpy as np
import torch

from jmt.data.affwild2.clips import AffWild2Features, clip_ends
from jmt.data.affwild2.prepare import load_index


def test_affwild2_features_from_readonly_memmaps(tiny_affwild2_prepared, tmp_path):
    idx = load_index(tiny_affwild2_prepared)
    feats = {}
    for m in ('visual', 'audio'):
        feats[m] = {}
        for n, v in idx['videos'].items():
            f = tmp_path/f'{m}-{n}.npy'
            np.save(f, np.random.default_rng(0).standard_normal((len(clip_ends(v['n_frames'], 8)), 512)).astype(np.float16))
            feats[m][n] = np.load(f, mmap_mode='r')
    ds = AffWild2Features(idx, feats, None, seq_len=4, clip_stride=8)
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        it = ds[0]
    x = it['x']['visual']
    assert x.dtype == torch.float32 and x.shape == (4, 512)
    n = ds.items[0][0]
    np.testing.assert_allclose(x[:min(4, len(feats['visual'][n]))].numpy(), np.asarray(feats['visual'][n][:4], np.float32))
    x += 1  # the item is a copy: the cache is unchanged
    np.testing.assert_allclose(np.asarray(ds[0]['x']['visual']), x.numpy() - 1)
