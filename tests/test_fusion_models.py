"""Pytest-level pins for the fusion models and the CCC: the release's (T, B) output bug, batch independence,
missing-modality masks, the parameter counts, and CCC against NumPy."""
import numpy as np
import pytest
import torch

from jmt.learn.metrics import ccc, ccc_loss
from jmt.models.registry import MODEL_NAMES, make_model
from jmt.models.peers import PEER_NAMES
from jmt.models.jmt import count_params

MODS = ('visual', 'audio', 'bio')


def _x(B, T, mods=MODS, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {m: torch.randn(B, T, 512, generator=g) for m in mods}


def test_release_preset_parameter_counts():
    "release = the SELF_ATTEN JMT the release trains; release_fc = its default config's FC head; its MT and vanilla."
    assert count_params(make_model('jmt')) == 11_170_818
    assert count_params(make_model('jmt', preset='release_fc')) == 11_820_034
    assert count_params(make_model('mt')) == 5_913_602
    assert count_params(make_model('vanilla')) == 656_386


@pytest.mark.parametrize('name', MODEL_NAMES)
def test_output_is_batch_first_per_clip(name):
    "The release returned (T, B); ours is (B, T, n_targets) and clip t of sample b is paired with label [b, t]."
    torch.manual_seed(0)
    B, T = 2, 7
    model = make_model(name, mods=MODS, n_targets=3).eval()
    x = _x(B, T)
    y = model(x)
    assert y.shape == (B, T, 3)
    if name in PEER_NAMES:  # RJCMA and JCA model clip order (a causal TCN, maps over time): permute the samples instead
        torch.testing.assert_close(model({m: v.flip(0) for m, v in x.items()}), y.flip(0), atol=1e-6, rtol=1e-5)
        return
    # the prediction for (b, t) follows the clip order of sample b: permute one sample's clips, its outputs permute too
    perm = torch.randperm(T)
    xp = {m: v.clone() for m, v in x.items()}
    for m in xp: xp[m][1] = xp[m][1, perm]
    yp = model(xp)
    torch.testing.assert_close(yp[1], y[1, perm], atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(yp[0], y[0], atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize('name', MODEL_NAMES)
def test_samples_never_attend_to_each_other(name):
    torch.manual_seed(0)
    model = make_model(name, mods=MODS).eval()
    x = _x(4, 5)
    x2 = {m: v.clone() for m, v in x.items()}
    for m in x2: x2[m][2] += torch.randn(5, 512)
    y, y2 = model(x), model(x2)
    keep = [0, 1, 3]
    torch.testing.assert_close(y[keep], y2[keep], atol=1e-6, rtol=1e-5)
    assert not torch.allclose(y[2], y2[2])


def test_transposed_mask_is_an_error():
    model = make_model('jmt')
    x = _x(2, 16, ('visual', 'audio'))
    with pytest.raises(ValueError, match='batch first'):
        model(x, {'audio': torch.ones(16, 2, dtype=torch.bool)})


def test_masked_clips_do_not_contribute_and_no_nans():
    torch.manual_seed(0)
    model = make_model('jmt').eval()
    x = _x(3, 6, ('visual', 'audio'))
    ma = torch.ones(3, 6, dtype=torch.bool); ma[0, :2] = False; ma[1] = False
    x2 = {m: v.clone() for m, v in x.items()}; x2['audio'][0, :2] = 1e3; x2['audio'][1] = torch.randn(6, 512)
    y, y2 = model(x, {'audio': ma}), model(x2, {'audio': ma})
    torch.testing.assert_close(y, y2, atol=1e-5, rtol=1e-4)
    nothing = {m: torch.zeros(3, 6, dtype=torch.bool) for m in ('visual', 'audio')}
    assert torch.isfinite(model(x, nothing)).all()


def test_ccc_matches_numpy_and_ignores_invalid():
    rng = np.random.default_rng(1)
    y = rng.uniform(-1, 1, (3, 40, 2)); p = .5 * y + rng.normal(0, .4, y.shape)
    y[0, :7] = -5.
    got = ccc(torch.tensor(p), torch.tensor(y)).numpy()
    for k in range(2):
        ok = y[..., k] != -5
        a, b = p[..., k][ok], y[..., k][ok]
        want = 2 * np.mean((a - a.mean()) * (b - b.mean())) / (a.var() + b.var() + (a.mean() - b.mean()) ** 2)
        assert abs(got[k] - want) < 1e-10
    t = torch.tensor([1., 2., 3.])
    assert abs(ccc(t, t).item() - 1) < 1e-7 and abs(ccc(4 - t, t).item() + 1) < 1e-7 and ccc(t + 1, t).item() < 1
    assert ccc_loss(torch.zeros(4, 2), torch.zeros(4, 2)).item() == 2.  # (1 - 0) summed over the two targets
