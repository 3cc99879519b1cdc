"""Backbone output shapes/dtypes, the local-weights round trip, and cached features equal to a fresh forward pass."""
import warnings

import numpy as np
import pytest
import torch

from jmt.features.backbones import Unimodal, make_backbone, input_key
from jmt.features.cache import CacheMismatchError, extract_features, load_features

INPUTS = {'visual': lambda b: torch.randn(b, 3, 8, 24, 24), 'audio': lambda b: torch.randn(b, 1, 64, 101),
          'bio': lambda b: torch.randn(b, 1, 2816)}


@pytest.mark.parametrize('modality', ['visual', 'audio', 'bio'])
def test_shapes_dtypes_and_roundtrip(tmp_path, modality):
    torch.manual_seed(0)
    m = make_backbone(modality, 'random').eval()
    x = INPUTS[modality](2)
    with torch.inference_mode(): y = m(x)
    assert y.shape == (2, 512) and y.dtype == torch.float32
    with torch.inference_mode(): assert Unimodal(m, 3).eval()(x).shape == (2, 3)
    f = tmp_path / 'w.pth'
    torch.save(m.state_dict(), f)
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # loading a file must not warn about random init
        m2 = make_backbone(modality, f).eval()
    with torch.inference_mode(): torch.testing.assert_close(m2(x), y)
    torch.manual_seed(1)
    with torch.inference_mode(): assert not torch.allclose(make_backbone(modality, 'random').eval()(x), y)


def test_flatten_pool_roundtrip(tmp_path):
    m = make_backbone('visual', 'random', pool='flatten', img_size=24).eval()
    torch.save({'state_dict': Unimodal(m).state_dict()}, tmp_path / 'u.pth')
    m2 = make_backbone('visual', tmp_path / 'u.pth', pool='flatten', img_size=24).eval()
    x = INPUTS['visual'](1)
    with torch.inference_mode(): torch.testing.assert_close(m2(x), m(x))
    with pytest.raises(RuntimeError, match='u.pth'): make_backbone('visual', tmp_path / 'u.pth', pool='flatten', img_size=40)  # 3x3 map, not 2x2


class Clips(torch.utils.data.Dataset):
    def __init__(self, modality, n=(2, 3)):
        self.modality, self.items = modality, [(f'video{v}_right', k) for v, c in enumerate(n) for k in range(c)]
    def __len__(self): return len(self.items)
    def __getitem__(self, i):
        v, k = self.items[i]
        torch.manual_seed(100 + i)  # the same item every time it is read
        return {'video': v, 'clip': k, input_key(self.modality): INPUTS[self.modality](1)[0] * (1 + i)}


@pytest.mark.parametrize('modality', ['visual', 'audio', 'bio'])
def test_cache_equals_fresh_forward(tmp_path, modality):
    torch.manual_seed(0)
    m = make_backbone(modality, 'random')
    ds = Clips(modality)
    extract_features(ds, modality, tmp_path, m, {'s': 1}, batch_size=2, progress=False)
    feats = load_features(tmp_path, modality, {'s': 1}, backbone=m)
    m.eval()
    with torch.inference_mode(): ref = m(torch.stack([ds[i][input_key(modality)] for i in range(len(ds))])).numpy()
    got = np.concatenate([feats['video0_right'], feats['video1_right']]).astype(np.float32)
    assert feats['video1_right'].dtype == np.float16 and got.shape == (5, 512)
    np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-3 * np.abs(ref).max())
    with pytest.raises(CacheMismatchError, match=str(tmp_path / modality)):
        extract_features(ds, modality, tmp_path, m, {'s': 2}, progress=False)
