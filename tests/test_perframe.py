"""Per-frame predictions in the paper preset (issue 23, item 1): every frame is a clip end, training sequences take
every 32nd clip at a phase drawn per epoch, and the evaluation gives each frame its own prediction."""
import math
import numpy as np
import pytest
import torch

from jmt.learn.metrics import abaw_va_ccc, ccc, expand_to_frames
from jmt.data.affwild2.clips import AffWild2Features, clip_ends
from jmt.data.affwild2.prepare import load_index, prepare_affwild2
from jmt.data.affwild2.synthetic import write_synthetic_affwild2
from jmt.tasks.presets import run_settings


def _ar1(n, tau, rng):
    "An AR(1) label track with time constant `tau` frames, in [-1, 1]."
    a, x = np.exp(-1 / tau), np.zeros(n)
    for i in range(1, n): x[i] = a * x[i-1] + np.sqrt(1 - a * a) * rng.standard_normal()
    return np.tanh(x)


def test_perfect_clip_predictions_score_one_only_per_frame():
    "Clip predictions equal to their labels: CCC 1 at clip stride 1; at stride 32 held well below 1, interpolated higher."
    rng = np.random.default_rng(0)
    labels = {f'v{i}': torch.tensor(np.stack([_ar1(3000, 60, rng), _ar1(3000, 120, rng)], 1), dtype=torch.float32) for i in range(4)}
    score = {}
    for stride, how in ((1, 'hold'), (32, 'hold'), (32, 'interp')):
        ends = {v: clip_ends(len(l), stride) for v, l in labels.items()}
        preds = {v: l[ends[v]] for v, l in labels.items()}
        P = torch.cat([expand_to_frames(preds[v], ends[v], len(l), how=how) for v, l in labels.items()])
        score[stride, how] = ccc(P, torch.cat(list(labels.values()))).mean().item()
    assert score[1, 'hold'] == pytest.approx(1.0, abs=1e-6)
    assert score[32, 'hold'] < 0.9, score  # holding a clip's prediction for 32 frames caps the score
    assert score[32, 'hold'] < score[32, 'interp'] < 1, score
    ends = {v: clip_ends(len(l), 32) for v, l in labels.items()}
    assert abaw_va_ccc({v: l[ends[v]] for v, l in labels.items()}, ends, labels)['mean'] == pytest.approx(score[32, 'interp'], abs=1e-6)


def test_paper_preset_is_per_frame():
    s = run_settings('affwild2', synthetic=False)
    assert s['clip_stride'] == 1 and s['seq_spacing'] == 32


@pytest.fixture(scope='module')
def prepared(tmp_path_factory):
    d = tmp_path_factory.mktemp('pf')
    write_synthetic_affwild2(d/'raw', n_videos=7, n_frames=120)
    prepare_affwild2(d/'raw', d/'prep', progress=False)
    return load_index(d/'prep')


def _feats(idx, dim=8):
    g = np.random.default_rng(0)
    return {m: {n: g.standard_normal((v['n_frames'], dim)).astype(np.float16) for n, v in idx['videos'].items()} for m in ('visual', 'audio')}


def test_paper_evaluation_predicts_every_frame(prepared):
    "The paper preset's validation set (stride-1 cache, sequences 32 frames a step): one prediction per frame, not held."
    from jmt.tasks.abaw import clip_predictions, frame_predictions
    s = run_settings('affwild2', synthetic=False)
    ds = AffWild2Features(prepared, _feats(prepared), 'val', seq_len=16, clip_stride=s['clip_stride'], seq_spacing=s['seq_spacing'])
    for i in range(len(ds)):  # the clips of a sequence are 32 frames apart
        e = ds[i]['end'][ds[i]['valid']].numpy(); assert (np.diff(e) == 32).all()
    P = torch.stack([torch.stack([b['x']['visual'][:, :2].sum(1), b['x']['audio'][:, :2].sum(1)], 1) for b in (ds[i] for i in range(len(ds)))])
    fp = frame_predictions(ds, clip_predictions(ds, P))
    for n, p in fp.items():
        nf = prepared['videos'][n]['n_frames']
        assert p.shape == (nf, 2)
        f = torch.from_numpy(_feats(prepared)['visual'][n][:, :2].astype(np.float32)).sum(1)
        torch.testing.assert_close(p[:, 0], f)  # each frame's own clip, none held from another frame
        assert (p[1:, 0] != p[:-1, 0]).float().mean() > .99


def test_training_phases_per_epoch(prepared):
    "Training sequences: one of the 32 clip-grid phases per person, drawn per epoch from the seed (reproducible)."
    ds = AffWild2Features(prepared, _feats(prepared), 'train', seq_len=16, clip_stride=1, seq_spacing=32, phases='epoch')
    first = lambda: [int(ds[i]['end'][0]) for i in range(len(ds))]
    draws = []
    for epoch in range(4):
        ds.set_epoch(epoch, seed=0); draws.append(first())
    ds.set_epoch(2, seed=0); assert first() == draws[2]
    assert len({tuple(d) for d in draws}) == 4
    assert all(0 <= e < 32 for d in draws for e in d)
    ds.set_epoch(2, seed=1); assert first() != draws[2]
    assert len(ds) == sum(math.ceil(math.ceil(v['n_frames'] / 32) / 16) for n, v in prepared['videos'].items() if n in ds.names)


def test_predict_fuse_uses_the_run_spacing():
    "`jmt-predict`'s fusion step lays out a stride-1 video as validation does: sequences 32 frames a step, every frame once."
    from types import SimpleNamespace
    from jmt.predict.video import fuse
    seen = []
    def net(x, m):
        v = x['visual'][..., 0]; seen.extend(r[k] for r, k in zip(v, m['visual']))
        return torch.stack([v, -v], -1) * m['visual'][..., None]
    run = SimpleNamespace(seq_len=16, stats=None, clip={'clip_stride': 1}, seq_spacing=32, net=net, device='cpu')
    n = 700; f = torch.arange(n, dtype=torch.float32)[:, None].expand(n, 4)
    out = fuse(run, {'visual': f}, {'visual': torch.ones(n, dtype=torch.bool)}, batch_size=5)
    torch.testing.assert_close(out[:, 0], f[:, 0])  # each frame its own prediction
    x = fuse(SimpleNamespace(**{**vars(run), 'seq_spacing': None}), {'visual': f}, {'visual': torch.ones(n, dtype=torch.bool)})
    torch.testing.assert_close(x, out)  # (this net ignores context: the same values either way)
    seen.clear(); fuse(run, {'visual': f}, {'visual': torch.ones(n, dtype=torch.bool)})
    assert all((s.diff() == 32).all() and len(s) <= 16 for s in seen) and sorted(torch.cat(seen).tolist()) == list(range(n))
