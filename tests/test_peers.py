"""RJCMA and JCA (jmt.models.peers) against the authors' code: the reference outputs of their released classes
(`tests/fixtures/peers/*.pt`, described in that folder's README.md), and, at other sizes and seeds,
an independent re-implementation of the authors' forwards in their style (their key names, symmetric padding +
chomp, per-sample loops). Also: batch first, samples independent, masks, padding, loader errors, and that the
training entry points take both models."""
import json, math, warnings
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from jmt.models.peers import PEER_NAMES
from jmt.models.jmt import count_params
from jmt.models.registry import make_model
from jmt.models.release import jca_state_dict, load_jca, load_rjcma, rjcma_state_dict

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / 'tests' / 'fixtures' / 'peers'
AUTHOR = {'video': 'visual', 'logmel': 'audio', 'bert': 'text'}


def _fixture(name):
    p = FIXTURES / f'{name}.pt'
    if not p.is_file():
        raise FileNotFoundError(f'{p}: the peers reference tensors are missing; they are tracked in git '
                                f'(git checkout -- tests/fixtures/peers)')
    return torch.load(p, weights_only=True)


# ---------------------------------------------------------------- the authors' forwards, written independently of jmt.models.peers

def ref_rjcma(sd, x, k=5):
    "RCMA.forward in eval mode on `{author stream: (B, T, D)}`, from the authors' state_dict."
    streams = [s for s in AUTHOR if f'temporal.{s}.network.0.conv1.weight_v' in sd]
    X = {}
    for s in streams:
        h, i = x[s].transpose(1, 2), 0
        while (p := f'temporal.{s}.network.{i}.') + 'conv1.weight_v' in sd:
            dil = 2 ** i; pad = (k - 1) * dil
            conv = lambda t, n: F.conv1d(t, torch._weight_norm(sd[p + n + '.weight_v'], sd[p + n + '.weight_g'], 0), sd[p + n + '.bias'],
                                         padding=pad, dilation=dil)[..., :-pad]  # both sides padded, then chomped
            o = F.leaky_relu(conv(F.leaky_relu(conv(h, 'conv1')), 'conv2'))
            r = F.conv1d(h, sd[p + 'downsample.weight'], sd[p + 'downsample.bias']) if p + 'downsample.weight' in sd else h
            h, i = F.leaky_relu(o + r), i + 1
        b = f'bn.{s}.'
        X[s] = F.batch_norm(h, sd[b + 'running_mean'], sd[b + 'running_var'], sd[b + 'weight'], sd[b + 'bias'], False).transpose(1, 2)
    l = 0
    while (p := f'coattn.dcn_layers.{l}.') + 'linears.0.0.weight' in sd:
        J = torch.cat([X[s] for s in streams], -1); new = {}
        for j, s in enumerate(streams):
            q = p + 'dense_coattn.'
            K = F.linear(X[s].transpose(1, 2), sd[f'{q}key{j+1}_linear.weight'], sd[f'{q}key{j+1}_linear.bias'])
            C = torch.tanh(torch.bmm(K, J) / math.sqrt(J.shape[-1]))
            H = F.relu(torch.tanh(torch.bmm(F.linear(X[s], sd[f'{q}value{j+1}_linear.weight'], sd[f'{q}value{j+1}_linear.bias']), C)))
            new[s] = X[s] + F.relu(F.linear(H, sd[f'{p}linears.{j}.0.weight'], sd[f'{p}linears.{j}.0.bias']))
        X, l = new, l + 1
    h = F.linear(torch.cat([X[s] for s in streams], -1), sd['regressor1.weight'], sd['regressor1.bias'])
    h = F.batch_norm(h.transpose(1, 2), sd['bn1.running_mean'], sd['bn1.running_var'], sd['bn1.weight'], sd['bn1.bias'], False)
    return torch.tanh(F.linear(F.leaky_relu(h.transpose(1, 2)), sd['regressor2.weight'], sd['regressor2.bias']))


def ref_jca(sd, xa, xv):
    "CAM.forward(audio, visual) in eval mode, sample by sample with torch.mm as the authors' loop."
    lin = lambda t, n, bias=True: F.linear(t, sd[n + '.weight'], sd[n + '.bias'] if bias else None)
    outs = []
    for i in range(xa.shape[0]):
        a, v = lin(xa[i], 'encoder1'), lin(xv[i], 'encoder2'); av = torch.cat((a, v), 1)
        att_a = torch.tanh(torch.mm(a.T, lin(av.T, 'affine_a', False).T) / math.sqrt(av.shape[1]))
        att_v = torch.tanh(torch.mm(v.T, lin(av.T, 'affine_v', False).T) / math.sqrt(av.shape[1]))
        h_a = torch.relu(lin(att_a, 'W_ca', False) + lin(a.T, 'W_a', False))
        h_v = torch.relu(lin(att_v, 'W_cv', False) + lin(v.T, 'W_v', False))
        z = torch.cat((lin(h_a, 'W_ha', False).T + a, lin(h_v, 'W_hv', False).T + v), 1)
        outs.append(lin(lin(z, 'regressor.0'), 'regressor.2'))
    return torch.stack(outs)


# ---------------------------------------------------------------- authors'-format state_dicts at other sizes

def rjcma_sd(streams, T, n_layers, k, head, seed):
    "A random state_dict with the authors' RCMA keys: `streams` = {author name: (d_in, [block widths])}."
    g = torch.Generator().manual_seed(seed)
    r = lambda *s, scale=.3: torch.randn(*s, generator=g) * scale
    pos = lambda *s: torch.rand(*s, generator=g) + .5
    sd = {}
    for s, (d_in, ch) in streams.items():
        for i, (ci, co) in enumerate(zip([d_in, *ch], ch)):
            p = f'temporal.{s}.network.{i}.'
            for n, (a, b) in (('conv1', (co, ci)), ('conv2', (co, co))):
                sd[p + n + '.bias'], sd[p + n + '.weight_g'], sd[p + n + '.weight_v'] = r(co), pos(co, 1, 1), r(a, b, k)
            for n, dup in (('conv1', 'net.0'), ('conv2', 'net.4')):
                for t in ('bias', 'weight_g', 'weight_v'): sd[f'{p}{dup}.{t}'] = sd[f'{p}{n}.{t}']
            if ci != co: sd[p + 'downsample.weight'], sd[p + 'downsample.bias'] = r(co, ci, 1), r(co)
        c = ch[-1]
        sd.update({f'bn.{s}.weight': pos(c), f'bn.{s}.bias': r(c), f'bn.{s}.running_mean': r(c), f'bn.{s}.running_var': pos(c),
                   f'bn.{s}.num_batches_tracked': torch.tensor(3)})
    dims = [ch[-1] for _, ch in streams.values()]; d = sum(dims)
    for l in range(n_layers):
        p = f'coattn.dcn_layers.{l}.'
        sd[p + 'dense_coattn.query_linear.weight'], sd[p + 'dense_coattn.query_linear.bias'] = r(d, d), r(d)
        for j, c in enumerate(dims):
            sd[f'{p}dense_coattn.key{j+1}_linear.weight'], sd[f'{p}dense_coattn.key{j+1}_linear.bias'] = r(T, T), r(T)
            sd[f'{p}dense_coattn.value{j+1}_linear.weight'], sd[f'{p}dense_coattn.value{j+1}_linear.bias'] = r(c, c), r(c)
            sd[f'{p}linears.{j}.0.weight'], sd[f'{p}linears.{j}.0.bias'] = r(c, d), r(c)
    sd.update({'regressor1.weight': r(head, d), 'regressor1.bias': r(head), 'bn1.weight': pos(head), 'bn1.bias': r(head),
               'bn1.running_mean': r(head), 'bn1.running_var': pos(head), 'bn1.num_batches_tracked': torch.tensor(3),
               'regressor2.weight': r(1, head), 'regressor2.bias': r(1)})
    return sd


def jca_sd(d_a, d_v, d, d_att, T, head, seed):
    "A random state_dict with the authors' CAM keys (CVPRW 2022), consistent sizes (weights scaled like PyTorch's init)."
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g) / math.sqrt(s[-1])
    return {'encoder1.weight': r(d, d_a), 'encoder1.bias': r(d), 'encoder2.weight': r(d, d_v), 'encoder2.bias': r(d),
            'affine_a.weight': r(T, T), 'affine_v.weight': r(T, T), 'W_a.weight': r(d_att, T), 'W_v.weight': r(d_att, T),
            'W_ca.weight': r(d_att, 2 * d), 'W_cv.weight': r(d_att, 2 * d), 'W_ha.weight': r(T, d_att), 'W_hv.weight': r(T, d_att),
            'regressor.0.weight': r(head, 2 * d), 'regressor.0.bias': r(head), 'regressor.2.weight': r(1, head), 'regressor.2.bias': r(1)}


# ---------------------------------------------------------------- the authors' reference outputs

def test_rjcma_reproduces_the_authors_outputs():
    ref = _fixture('rjcma')
    model = load_rjcma(ref['state_dict'])
    x = {'visual': ref['inputs']['video'], 'audio': ref['inputs']['audio'], 'text': ref['inputs']['text']}
    keep = {k: v.clone() for k, v in x.items()}
    with torch.no_grad(): y = model(x)
    assert y.shape == ref['outputs'].shape == (3, 16, 1)
    torch.testing.assert_close(y, ref['outputs'], atol=1e-5, rtol=0)
    for k in x: assert torch.equal(x[k], keep[k])  # the authors' forward overwrites its input dict; ours does not
    _, cfg, dropped = rjcma_state_dict(ref['state_dict'])
    assert cfg['mods'] == ('visual', 'audio', 'text') and cfg['T'] == 16 and cfg['channels']['audio'] == [32] * 4
    assert sum('query_linear' in k for k in dropped) == 4 and sum('.net.' in k for k in dropped) == 72
    assert count_params(model) == ref['meta']['n_params'] - 2 * (128 * 128 + 128)
    # the independent re-implementation agrees with the authors' outputs too (so it can stand in for them below)
    with torch.no_grad(): torch.testing.assert_close(ref_rjcma(ref['state_dict'], {'video': x['visual'], 'logmel': x['audio'], 'bert': x['text']}), ref['outputs'], atol=1e-5, rtol=0)


def test_jca_reproduces_the_authors_outputs():
    ref = _fixture('jca')
    model = load_jca(ref['state_dict'])
    with torch.no_grad(): y = model(ref['inputs'])
    torch.testing.assert_close(y, ref['outputs'], atol=1e-5, rtol=0)
    assert count_params(model) == ref['meta']['n_params']
    with torch.no_grad():
        torch.testing.assert_close(ref_jca(ref['state_dict'], ref['inputs']['audio'], ref['inputs']['visual']), ref['outputs'], atol=1e-5, rtol=0)


@pytest.mark.parametrize('name', ['rjcma', 'jca'])
def test_loaded_models_are_batch_first_and_samples_independent(name):
    ref = _fixture(name)
    model = (load_rjcma if name == 'rjcma' else load_jca)(ref['state_dict'])
    x = {AUTHOR.get(k, k): v for k, v in ref['inputs'].items()}
    with torch.no_grad():
        y = model(x)
        perm = torch.tensor([2, 0, 1])
        torch.testing.assert_close(model({k: v[perm] for k, v in x.items()}), y[perm], atol=1e-6, rtol=0)
        x2 = {k: v.clone() for k, v in x.items()}; x2['audio'][1] += torch.randn_like(x2['audio'][1])
        y2 = model(x2)
    torch.testing.assert_close(y2[[0, 2]], y[[0, 2]], atol=1e-6, rtol=0)
    assert not torch.allclose(y2[1], y[1])


# ---------------------------------------------------------------- other sizes and seeds

@pytest.mark.parametrize('streams,T,n_layers,k,head,seed', [
    ({'video': (10, [6, 6, 6]), 'logmel': (7, [5, 5, 5])}, 5, 1, 3, 9, 1),  # two streams, 3 blocks, kernel 3, one sub-layer
    ({'video': (12, [8, 8, 6, 6]), 'logmel': (6, [6, 6, 6, 6]), 'bert': (9, [4, 4, 4, 4])}, 11, 3, 5, 7, 2),  # widths change, 3 sub-layers
])
def test_rjcma_other_sizes(streams, T, n_layers, k, head, seed):
    sd = rjcma_sd(streams, T, n_layers, k, head, seed)
    model = load_rjcma(sd)
    assert model.T == T and len(model.fusion) == n_layers and model.mods == tuple(AUTHOR[s] for s in streams)
    assert model.channels == {AUTHOR[s]: tuple(ch) for s, (_, ch) in streams.items()}
    g = torch.Generator().manual_seed(seed + 10)
    xa = {s: torch.randn(4, T, d, generator=g) for s, (d, _) in streams.items()}
    with torch.no_grad(): want, got = ref_rjcma(sd, xa, k), model({AUTHOR[s]: v for s, v in xa.items()})
    torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


@pytest.mark.parametrize('d_a,d_v,d,d_att,T,head,seed', [(20, 12, 6, 4, 9, 5, 3), (512, 512, 128, 32, 8, 128, 4)])
def test_jca_other_sizes(d_a, d_v, d, d_att, T, head, seed):
    sd = jca_sd(d_a, d_v, d, d_att, T, head, seed)
    model = load_jca(sd)
    g = torch.Generator().manual_seed(seed)
    xa, xv = torch.randn(3, T, d_a, generator=g), torch.randn(3, T, d_v, generator=g)
    with torch.no_grad(): torch.testing.assert_close(model({'audio': xa, 'visual': xv}), ref_jca(sd, xa, xv), atol=1e-5, rtol=0)


@pytest.mark.parametrize('name', PEER_NAMES)
@pytest.mark.parametrize('mods', [('visual', 'audio'), ('visual', 'audio', 'text')])
def test_any_streams_any_T_masks(name, mods):
    torch.manual_seed(0)
    size = dict(channels=8) if name == 'rjcma' else dict(d=8)
    model = make_model(name, mods=mods, n_targets=3, d_in={'visual': 12, 'audio': 6, 'text': 9}, T=7, **size).eval()
    x = {m: torch.randn(2, 7, {'visual': 12, 'audio': 6, 'text': 9}[m]) for m in mods}
    with torch.no_grad():
        y = model(x)
        assert y.shape == (2, 7, 3)
        # a shorter sequence is the zero-padded one, cut back
        short = {m: v[:, :4] for m, v in x.items()}
        torch.testing.assert_close(model(short), model({m: F.pad(v, (0, 0, 0, 3)) for m, v in short.items()})[:, :4], atol=1e-6, rtol=0)
        # masked clips: their features do not matter
        mask = {'audio': torch.tensor([[True, False, True, True, False, True, True], [False] * 7])}
        x2 = {m: v.clone() for m, v in x.items()}; x2['audio'][~mask['audio']] = 1e3
        torch.testing.assert_close(model(x2, mask), model(x, mask), atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match=rf"make_model\('{name}', T=9\)"):
        model({m: torch.randn(2, 9, v.shape[-1]) for m, v in x.items()})
    with pytest.raises(ValueError, match='batch first'):
        model(x, {'audio': torch.ones(7, 2, dtype=torch.bool)})


def test_loader_errors_name_the_problem():
    sd = rjcma_sd({'video': (10, [6] * 4), 'logmel': (7, [5] * 4)}, 5, 2, 5, 9, 0)
    wrong = dict(sd, **{'regressor1.weight': torch.zeros(9, 512)})  # the released head size
    with pytest.raises(ValueError, match=r'DCNLayer\(256,128,128\)'): load_rjcma(wrong)
    dup = dict(sd, **{'temporal.video.network.1.net.4.weight_v': torch.zeros(6, 6, 5)})
    with pytest.raises(ValueError, match='registered twice'): load_rjcma(dup)
    with pytest.raises(ValueError, match='does not know'): load_rjcma(dict(sd, extra=torch.zeros(1)))
    with pytest.raises(KeyError, match='bn1.running_var'): load_rjcma({k: v for k, v in sd.items() if k != 'bn1.running_var'})
    j = jca_sd(512, 512, 128, 32, 8, 128, 0)
    with pytest.raises(ValueError, match=r'Linear\(640,128\)'): load_jca(dict(j, **{'regressor.0.weight': torch.zeros(128, 640)}))
    assert jca_state_dict({'module.' + k: v for k, v in j.items()})[1]['T'] == 8  # DataParallel prefixes are fine


# ---------------------------------------------------------------- the training entry points take them

def test_train_affwild2_and_biovid_take_the_peers(tmp_path, tiny_biovid_prepared):
    from jmt.tasks.affwild2_train import prepare_affwild2_features, train_affwild2
    from jmt.tasks.biovid_train import train_biovid
    from jmt.data.biovid.datasets import load_index
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # random-init backbones, on purpose
        f = prepare_affwild2_features(tmp_path / 'aw', n_videos=7, n_frames=40, img_size=32, clip_stride=16, progress=False)
    for name, kw in (('rjcma', dict(channels=16, T=4)), ('jca', dict(d=16))):  # jca: built for T = seq_len without being told
        r = train_affwild2(f['prepared'], f['cache'], tmp_path / 'runs', name, epochs=1, lr=1e-2, seq_len=4, quiet=True,
                           drop=['audio'], **kw)
        assert r['params'] == count_params(make_model(name, **{'T': 4, **kw})) and r['epochs'] == 1
        if name == 'jca': assert r['params'] != count_params(make_model(name, **kw))  # not the default T = 16, zero-padded
        assert json.loads((r['run_dir'] / 'config.json').read_text())['config']['T'] == 4  # the run names the model it trained
        assert np.isfinite(r['metrics']['mean']) and set(r['robustness']) == {'none', 'audio'}
        assert (r['run_dir'] / 'results.csv').is_file()
    samples = load_index(tiny_biovid_prepared)['samples']
    g = torch.Generator().manual_seed(0)
    feats = {m: {s['sample']: torch.randn(2, 512, generator=g).numpy() for s in samples} for m in ('visual', 'bio')}
    for name, kw in (('rjcma', dict(channels=16, T=2, tanh=False)), ('jca', dict(d=16))):  # jca: T = the windows' 2 clips, found
        r = train_biovid(tiny_biovid_prepared, tmp_path / 'nofeats', tmp_path / f'bio_{name}', name, task='multiclass',
                         protocol='kfold', k=2, epochs=1, batch_size=4, quiet=True, feats=feats, **kw)
        assert r['model'] == name and 0 <= r['accuracy'] <= 1 and len(r['predictions']) == r['n_test']
        assert r['n_params'] == count_params(make_model(name, mods=('visual', 'bio'), n_targets=5, **{'T': 2, **kw}))
        assert r['config']['T'] == 2


def test_bench_peers_measures_every_model_against_jmt(load_script):
    "bench/peers.py runs (one repetition, tiny T): a row per model, JMT's ratio is 1, the counts are the presets' (JCA at T = 4)."
    rows = load_script('bench/peers.py').measure(B=1, T=4, reps=1)
    assert [r['model'] for r in rows] == ['jmt', 'rjcma', 'jca'] and rows[0]['ratio'] == 1
    assert rows[0]['params'] == 11_170_818 and rows[2]['params'] == 183_297 + 128 * 256 + 128 + 129 - 2 * (16 * 16 + 2 * 32 * 16) + 2 * (4 * 4 + 2 * 32 * 4)
    assert all(r['ms'] > 0 and r['mflops'] > 0 for r in rows)


def test_make_model_passes_the_sequence_length_to_models_that_take_it():
    "`make_model(name, T=...)`: the peers are built for T; every other model takes any length and is the same model without it."
    for name in ('jmt', 'vanilla', 'unimodal_audio'):
        torch.manual_seed(0); a = make_model(name, T=4).state_dict()
        torch.manual_seed(0); b = make_model(name).state_dict()
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert make_model('jca', d=16, T=4).T == 4 and count_params(make_model('jca', d=16, T=4)) != count_params(make_model('jca', d=16))
