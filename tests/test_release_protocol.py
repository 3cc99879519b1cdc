"""`jmt.learn.metrics.release_protocol_ccc` against a re-implementation of the release's validation written here, in the
release's own structure (github PoloWlg/Joint-Multimodal-Transformer-6th-ABAW: `datasets/dataset_val.py` reads each
video's label CSV and makes one clip per frame whose label is the last CSV row of its 32-frame window; `val.py` fills
per-video lists of zeros frame by frame, skipping clips labelled -5, clips then box-smooths each video with zero padding
and scores every frame of every video concatenated with `EvaluationMetrics/cccmetric.py`'s CCC). Loops, lists and no
jmt code: an independent reading, compared on random predictions and labels with -5 stretches."""
import math
import random

import numpy as np
import pytest
import torch

from jmt.learn.metrics import ccc, release_labels, release_protocol_ccc, box_smooth_zero_padded

INVALID = -5.0


def csv_rows(labels, listed):
    "The video's label CSV as the release reads it: (frame_id 1-based, V, A) for each listed frame."
    return [(f + 1, labels[f][0], labels[f][1]) for f in range(len(labels)) if listed[f]]


def clips_of_video(rows, length, win=32):
    "One clip per frame 1..length: (frame_id, V label, A label) with the label of the window's last CSV row, -5 without one."
    clips = []
    for end in range(1, length + 1):
        in_window = [r for r in rows if end - (win - 1) <= r[0] <= end]
        lab_v, lab_a = INVALID, INVALID
        for r in in_window:  # the last row wins, as the release's loop over the clip's images
            lab_v, lab_a = r[1], r[2]
        clips.append((end, lab_v, lab_a))
    return clips


def uniform_filter_constant(x, size):
    "A box filter of `size` taps, zeros outside, window [i - size//2, i - size//2 + size - 1] (scipy.ndimage's placement)."
    n, out = len(x), []
    for i in range(n):
        s = 0.0
        for j in range(i - size // 2, i - size // 2 + size):
            if 0 <= j < n: s += x[j]
        out.append(s / size)
    return out


def release_ccc(x, y):
    "cccmetric.ccc: Pearson r times population stds."
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    vx, vy = x - x.mean(), y - y.mean()
    rho = (vx * vy).sum() / (math.sqrt((vx ** 2).sum()) * math.sqrt((vy ** 2).sum()))
    sx, sy = x.std(), y.std()
    return 2 * rho * sx * sy / (sx ** 2 + sy ** 2 + (x.mean() - y.mean()) ** 2)


def validate_like_release(preds, labels, listed):
    "val.py's evaluation of per-frame predictions {video: [(v, a)] * length}; returns (valence CCC, arousal CCC)."
    pred_v, pred_a, label_v, label_a = {}, {}, {}, {}
    for vid in labels:
        length = len(labels[vid])
        for frameid, labV, labA in clips_of_video(csv_rows(labels[vid], listed[vid]), length):
            voutput, aoutput = preds[vid][frameid - 1]
            if vid not in pred_a:
                pred_a[vid] = [0] * length; pred_v[vid] = [0] * length
                label_a[vid] = [0] * length; label_v[vid] = [0] * length
            if labA == INVALID or labV == INVALID: continue  # discarded clips keep prediction 0 and label 0
            pred_a[vid][frameid - 1] = aoutput; pred_v[vid][frameid - 1] = voutput
            label_a[vid][frameid - 1] = labA; label_v[vid][frameid - 1] = labV
    vout, vtar, aout, atar = [], [], [], []
    for key in pred_a:
        sv = uniform_filter_constant([min(max(p, -1.0), 1.0) for p in pred_v[key]], 20)
        sa = uniform_filter_constant([min(max(p, -1.0), 1.0) for p in pred_a[key]], 50)
        for i in range(len(sa)):
            vout.append(sv[i]); aout.append(sa[i]); vtar.append(label_v[key][i]); atar.append(label_a[key][i])
    return release_ccc(vout, vtar), release_ccc(aout, atar)


def random_set(seed, n_videos=4):
    "Random labels in [-1, 1] with -5 stretches (long and short, at the start too) and predictions overshooting [-1, 1]."
    rng = random.Random(seed)
    labels, preds = {}, {}
    for k in range(n_videos):
        n = rng.randint(60, 260)
        lab = [[rng.uniform(-1, 1), rng.uniform(-1, 1)] for _ in range(n)]
        for _ in range(rng.randint(1, 3)):
            s, L = rng.randrange(n), rng.choice([3, 20, 31, 32, 45, 80])
            for f in range(s, min(n, s + L)): lab[f] = [INVALID, INVALID]
        if k == 0:
            for f in range(10): lab[f] = [INVALID, INVALID]  # a video that starts unlabelled
        if k == 1:
            for f in range(n // 2, n // 2 + 5): lab[f][1] = INVALID  # arousal alone missing
        labels[f'v{k}'] = lab
        preds[f'v{k}'] = [[rng.uniform(-1.3, 1.3), rng.uniform(-1.3, 1.3)] for _ in range(n)]
    return labels, preds


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('listing', ['labelled', 'every frame'])
def test_release_protocol_matches_the_release_loops(seed, listing):
    labels, preds = random_set(seed)
    if listing == 'labelled': listed = {v: [l[0] != INVALID and l[1] != INVALID for l in lab] for v, lab in labels.items()}
    else: listed = {v: [True] * len(lab) for v, lab in labels.items()}
    ref_v, ref_a = validate_like_release(preds, labels, listed)
    got = release_protocol_ccc({v: np.array(p) for v, p in preds.items()}, {v: np.array(l) for v, l in labels.items()},
                               None if listing == 'labelled' else {v: np.array(m) for v, m in listed.items()})
    assert abs(got['valence'] - ref_v) < 1e-6 and abs(got['arousal'] - ref_a) < 1e-6, (got, ref_v, ref_a)
    assert abs(got['mean'] - (ref_v + ref_a) / 2) < 1e-6


def test_release_protocol_is_not_the_abaw_metric():
    "Same predictions, two numbers: the (0, 0) frames, borrowed labels and zero-padded smoothing move it."
    labels, preds = random_set(5)
    P = {v: torch.tensor(p) for v, p in preds.items()}; L = {v: torch.tensor(l) for v, l in labels.items()}
    abaw = ccc(torch.cat(list(P.values())), torch.cat(list(L.values())))
    rel = release_protocol_ccc(P, L)  # tensors are taken too
    assert abs(rel['valence'] - abaw[0].item()) > 1e-3


def test_borrowed_label_and_unlabelled_clip():
    lab = np.array([[.5, .4]] + [[INVALID, INVALID]] * 40)
    rl = release_labels(lab)
    assert (rl[1:32] == [.5, .4]).all() and (rl[32:] == INVALID).all()  # 31 frames borrow frame 0's label, then none


def test_smoothing_matches_scipy_when_installed():
    nd = pytest.importorskip('scipy.ndimage')
    x = np.random.default_rng(0).normal(size=(70, 2))
    for w in (20, 50, 7):
        ref = np.stack([nd.uniform_filter1d(x[:, k], size=w, mode='constant') for k in range(2)], 1)
        assert np.abs(box_smooth_zero_padded(x, (w, w)) - ref).max() < 1e-12
    ours = uniform_filter_constant(list(x[:, 0]), 20)
    assert np.abs(np.array(ours) - nd.uniform_filter1d(x[:, 0], size=20, mode='constant')).max() < 1e-12


def test_errors_name_the_video():
    with pytest.raises(KeyError, match='no per-frame predictions'): release_protocol_ccc({}, {'a': np.zeros((3, 2))})
    with pytest.raises(ValueError, match='one row per frame'): release_protocol_ccc({'a': np.zeros((4, 2))}, {'a': np.zeros((3, 2))})
