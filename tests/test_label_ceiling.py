"""`jmt.learn.metrics.stride_ceiling`: the labels taken at jmt's clip ends and spread over the frames, checked against a loop written
here (clip ends stride-1, 2*stride-1, ... and the last frame; hold = the next labelled clip end's value, interp = linear
between labelled clip ends), and read from a prepared folder."""
import numpy as np
import pytest
import torch

from jmt.learn.metrics import ccc, stride_ceiling, label_ceiling_line

INVALID = -5.0


def ceiling_by_hand(labels, stride, how):
    preds = []
    for lab in labels.values():
        n = len(lab)
        ends = list(range(stride - 1, n, stride))
        if not ends or ends[-1] != n - 1: ends.append(n - 1)
        p = np.zeros((n, 2))
        for k in range(2):
            e = [x for x in ends if lab[x, k] != INVALID]
            for f in range(n):
                if not e: p[f, k] = 0.; continue
                nxt = [x for x in e if x >= f]
                if how == 'hold': p[f, k] = lab[nxt[0] if nxt else e[-1], k]
                else:
                    prv = [x for x in e if x <= f]
                    if not prv: p[f, k] = lab[e[0], k]
                    elif not nxt: p[f, k] = lab[e[-1], k]
                    elif prv[-1] == nxt[0]: p[f, k] = lab[f, k]
                    else:
                        a, b = prv[-1], nxt[0]
                        p[f, k] = lab[a, k] + (lab[b, k] - lab[a, k]) * (f - a) / (b - a)
        preds.append(p)
    return ccc(torch.from_numpy(np.concatenate(preds)), torch.from_numpy(np.concatenate(list(labels.values()))))


def random_labels(seed):
    rng = np.random.default_rng(seed)
    out = {}
    for v in range(3):
        n = int(rng.integers(40, 130))
        lab = np.tanh(np.cumsum(rng.normal(0, .2, (n, 2)), 0))
        s = int(rng.integers(0, n - 10)); lab[s:s + int(rng.integers(3, 25))] = INVALID
        lab[int(rng.integers(0, n)), 1] = INVALID  # arousal alone
        out[f'v{v}'] = lab
    out['short'] = np.full((5, 2), INVALID); out['short'][2] = [.3, -.2]  # no labelled clip end at stride 8: spread 0
    return out


@pytest.mark.parametrize('seed', [0, 1])
def test_ceiling_matches_a_loop(seed):
    labels = random_labels(seed)
    rows = stride_ceiling(labels, (1, 3, 8), ('hold', 'interp'))
    assert [(r['stride'], r['how']) for r in rows] == [(s, h) for s in (1, 3, 8) for h in ('hold', 'interp')]
    for r in rows:
        ref = ceiling_by_hand(labels, r['stride'], r['how'])
        assert abs(r['valence'] - ref[0].item()) < 1e-9 and abs(r['arousal'] - ref[1].item()) < 1e-9, (r, ref)
        assert abs(r['mean'] - (r['valence'] + r['arousal']) / 2) < 1e-12
    assert all(abs(r['mean'] - 1) < 1e-12 for r in rows if r['stride'] == 1)


def test_ceiling_of_a_prepared_folder(tiny_affwild2_prepared):
    from jmt.data.affwild2.prepare import load_index, load_labels
    idx = load_index(tiny_affwild2_prepared)
    labs = {}
    for n, v in idx['videos'].items():
        if v['labels'] is None: continue
        va, m = load_labels(idx, n); labs[n] = np.where(m, va, INVALID)
    assert labs and stride_ceiling(tiny_affwild2_prepared, (4,)) == stride_ceiling(labs, (4,))
    line = label_ceiling_line(tiny_affwild2_prepared, 32)
    assert line.startswith('label ceiling at clip stride 32: CCC ') and '(hold)' in line and '(interp)' in line and 'stride 1: 1.00' in line
