"""`jmt.models.release.load_release` against independent re-implementations of the release's forward pass.

The reference below is written from the release's key names (tests/release_state_dict_keys.txt, printed from its
`Two_transformers`) with plain torch ops over the state_dict, in the release's own layout: `forward(f1_norm=audio,
f2_norm=visual)`, inputs L2-normalised inside, `nn.MultiheadAttention` semantics on (T, B, D) tensors
(`F.multi_head_attention_forward`), post-norm encoder layers, the FC head returning (T, B). It shares no code with
jmt.models.jmt, jmt.models.registry or jmt.models.release. Every variant's key set loads, has the release's parameter count, and gives the reference's outputs.

`ReleaseMT` below is a second reference, for `load_release(..., exact=True)`: the release's MT written as its authors
wrote it, with `nn.Module`s named as theirs (so its state_dict loads the release's keys strictly) and
`nn.MultiheadAttention` sequence first, its encoders handed the batch-first tensors as they are."""
import re
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from jmt.learn.metrics import ccc, ccc_loss
from jmt.models.jmt import count_params
from jmt.models.registry import make_model
from jmt.models.release import load_release, release_state_dict

KEYS = Path(__file__).with_name('release_state_dict_keys.txt')
VARIANTS = {'TRANSFORMER/SELF_ATTEN': 'jmt', 'TRANSFORMER/FC': 'jmt_fc', 'NONE/FC': 'mt', 'FC/FC': 'vanilla'}
COUNTS = {'jmt': 11_170_818, 'jmt_fc': 11_820_034, 'mt': 5_913_602, 'vanilla': 656_386}


def release_keys() -> dict[str, dict[str, tuple]]:
    "{variant: {key: shape}} parsed from the release's printed state_dict listing."
    out, cur = {}, None
    for line in KEYS.read_text().splitlines():
        m = re.match(r"### Two_transformers\(joint_modalities='(\w+)', output_format='(\w+)'\)", line)
        if m: cur = out.setdefault(VARIANTS[f'{m[1]}/{m[2]}'], {}); continue
        if cur is not None and '\t' in line:
            k, s = line.split('\t')
            cur[k] = tuple(int(v) for v in re.findall(r'\d+', s))
    return out


def random_release_sd(shapes: dict, seed=0) -> dict:
    "Random weights of sensible scale under the release's names (the unused final_encoder left as zeros: it is dropped)."
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for k, s in shapes.items():
        if 'final_encoder' in k: sd[k] = torch.zeros(s)
        elif 'layer_norm' in k and k.endswith('weight'): sd[k] = 1 + .1 * torch.randn(s, generator=g)
        elif len(s) == 1: sd[k] = .1 * torch.randn(s, generator=g)
        else: sd[k] = torch.randn(s, generator=g) * s[1] ** -.5
    return sd


# --- the release's forward, from its key names -------------------------------------------------------------------
def lin(sd, p, x): return F.linear(x, sd[p + '.weight'], sd[p + '.bias'])

def mha(sd, p, q, k, v):
    "nn.MultiheadAttention(512, 1)(q, k, v)[0] on (L, N, E) tensors."
    return F.multi_head_attention_forward(q, k, v, q.shape[-1], 1, sd[p + '.in_proj_weight'], sd[p + '.in_proj_bias'],
                                          None, None, False, 0., sd[p + '.out_proj.weight'], sd[p + '.out_proj.bias'],
                                          training=False, need_weights=False)[0]

def enc(sd, p, x):
    "The release's TransformerEncoderLayer (post-norm) on (L, N, E)."
    p += '.layers.0.'
    x = F.layer_norm(x + mha(sd, p + 'attention', x, x, x), x.shape[-1:], sd[p + 'layer_norm1.weight'], sd[p + 'layer_norm1.bias'])
    ff = lin(sd, p + 'feed_forward.2', F.relu(lin(sd, p + 'feed_forward.0', x)))
    return F.layer_norm(x + ff, x.shape[-1:], sd[p + 'layer_norm2.weight'], sd[p + 'layer_norm2.bias'])

def regress(sd, z):
    return torch.stack([lin(sd, f'{r}.3', F.relu(lin(sd, f'{r}.0', z)))[..., 0] for r in ('vregressor', 'aregressor')], -1)

def release_forward(sd, variant, f1_norm, f2_norm, mt_batch_bug=False):
    "The release's Two_transformers(f1_norm=audio, f2_norm=visual) -> (B, T, 2) (the FC head's (T, B) transposed back)."
    video, audio = F.normalize(f2_norm, dim=-1), F.normalize(f1_norm, dim=-1)   # (B, T, D)
    mt = 'mm_transformer.'
    if variant == 'vanilla': return regress(sd, lin(sd, mt + 'fc', torch.cat((video, audio), 2)))
    if variant == 'mt':
        # the release feeds (B, T, D) to its encoders, which read it as (T, B, D): samples attend to each other. jmt
        # fixes that (encoders over T); `mt_batch_bug=True` reproduces the release as written.
        tb = (lambda t: t) if mt_batch_bug else (lambda t: t.transpose(0, 1))
        ve = tb(enc(sd, mt + 'visual_encoder', tb(video))).transpose(0, 1)        # (T, B, D)
        ae = tb(enc(sd, mt + 'physiological_encoder', tb(audio))).transpose(0, 1)
        c_v = mha(sd, mt + 'cross_attention_v', ve, ae, ae)
        c_p = mha(sd, mt + 'cross_attention_p', ae, ve, ve)
        return regress(sd, lin(sd, mt + 'final_layer', torch.cat((c_v, c_p), 2))).transpose(0, 1)
    j = lin(sd, mt + 'out_layer_pv', torch.cat((video, audio), 2))
    v, a, j = (t.permute(1, 0, 2) for t in (video, audio, j))                   # (T, B, D)
    ve, ae = enc(sd, mt + 'visual_encoder', v), enc(sd, mt + 'physiological_encoder', a)
    je = enc(sd, mt + 'joint_representation_encoder', j)
    cv, cp, cj = mt + 'cross_attention_v', mt + 'cross_attention_p', mt + 'cross_attention_pv'
    outs = [mha(sd, cv, ve, ae, ae), mha(sd, cp, ae, ve, ve), mha(sd, cj, je, ve, ve),
            mha(sd, cv, ve, je, je), mha(sd, cj, je, ae, ae), mha(sd, cp, ae, je, je)]
    if variant == 'jmt_fc':
        return regress(sd, lin(sd, mt + 'out_layer1', torch.cat(outs, 2))).transpose(0, 1)  # (T, B, 2) -> (B, T, 2)
    s = torch.stack(outs, 2).permute(1, 0, 2, 3)                                # (B, T, 6, D)
    B, T = s.shape[:2]
    s = s.flatten(0, 1).permute(1, 0, 2)                                        # (6, B*T, D): 6 tokens per clip
    f = enc(sd, mt + 'final_visual_encoder', s)
    f = mha(sd, mt + 'final_self_attention', f, f, f).permute(1, 0, 2).unflatten(0, (B, T))
    return regress(sd, f[:, :, -1])


# --- the release's MT as written (joint_modalities='NONE', output_format='FC'), module by module -------------------
class _EncoderLayer(nn.Module):
    "Post-norm layer on sequence-first input, its parts named as the release's."
    def __init__(self, d=512, ff=512):
        super().__init__()
        self.attention = nn.MultiheadAttention(d, 1)  # batch_first=False: (L, N, E)
        self.feed_forward = nn.Sequential(nn.Linear(d, ff), nn.ReLU(), nn.Linear(ff, d))
        self.layer_norm1, self.layer_norm2 = nn.LayerNorm(d), nn.LayerNorm(d)

    def forward(self, x):
        x = self.layer_norm1(x + self.attention(x, x, x)[0])
        return self.layer_norm2(x + self.feed_forward(x))


class _EncoderBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.Sequential(_EncoderLayer())

    def forward(self, x): return self.layers(x)


class _NoJointTransformer(nn.Module):
    def __init__(self):
        super().__init__()
        self.visual_encoder, self.physiological_encoder = _EncoderBlock(), _EncoderBlock()
        self.cross_attention_v, self.cross_attention_p = nn.MultiheadAttention(512, 1), nn.MultiheadAttention(512, 1)
        self.gated_attention = nn.Linear(1024, 1)  # built, never called
        self.final_layer = nn.Linear(1024, 512)

    def forward(self, v, p):  # (B, T, D) each
        ve, pe = self.visual_encoder(v), self.physiological_encoder(p)  # as the release: no permute before the encoders
        sf = lambda t: t.permute(1, 0, 2)                               # the cross-attentions do permute
        cv = sf(self.cross_attention_v(sf(ve), sf(pe), sf(pe))[0])
        cp = sf(self.cross_attention_p(sf(pe), sf(ve), sf(ve))[0])
        return self.final_layer(torch.cat((cv, cp), 2))


class ReleaseMT(nn.Module):
    "Two_transformers(joint_modalities='NONE', output_format='FC'): forward(f1_norm=audio, f2_norm=visual) -> (vouts, aouts), (B, T) each."
    def __init__(self):
        super().__init__()
        self.mm_transformer = _NoJointTransformer()
        self.vregressor, self.aregressor = (nn.Sequential(nn.Linear(512, 128), nn.ReLU(), nn.Dropout(0.), nn.Linear(128, 1))
                                            for _ in range(2))

    def forward(self, f1_norm, f2_norm):
        z = self.mm_transformer(F.normalize(f2_norm, dim=-1), F.normalize(f1_norm, dim=-1))
        return self.vregressor(z).squeeze(2), self.aregressor(z).squeeze(2)


def _x(B, T, seed=1):
    g = torch.Generator().manual_seed(seed)
    return {'visual': torch.randn(B, T, 512, generator=g), 'audio': torch.randn(B, T, 512, generator=g)}


@pytest.fixture(scope='module')
def keys(): return release_keys()


@pytest.mark.parametrize('variant', list(COUNTS))
def test_release_key_set_loads_and_matches_the_release(keys, variant):
    shapes = keys[variant]
    sd = random_release_sd(shapes)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        model = load_release(sd)
    dropped = [k for k in shapes if 'final_encoder' in k or 'gated_attention' in k]
    assert bool(dropped) == any('never uses' in str(i.message) for i in w)
    n_used = sum(torch.Size(s).numel() for k, s in shapes.items() if k not in dropped)
    assert count_params(model) == n_used == COUNTS[variant]
    x = _x(2, 5)  # B != T, so a (T, B) / (B, T) mix-up cannot pass
    with torch.no_grad():
        ours, ref = model(x), release_forward(sd, variant, f1_norm=x['audio'], f2_norm=x['visual'])
    assert ours.shape == ref.shape == (2, 5, 2)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize('name,preset', [('jmt', 'release'), ('jmt', 'release_fc'), ('mt', 'release'), ('vanilla', 'release')])
def test_round_trip_through_release_names(tmp_path, name, preset):
    torch.manual_seed(0)
    model = make_model(name, preset=preset).eval()
    path = tmp_path / 'release.pth'
    torch.save({'epoch': 1, 'model': {f'module.{k}': v for k, v in release_state_dict(model).items()}}, path)
    back = load_release(path)
    x = _x(3, 4)
    with torch.no_grad(): assert torch.equal(back(x), model(x))
    # batch first, and sample 0 does not move when sample 1 is perturbed
    x2 = {m: v.clone() for m, v in x.items()}; x2['audio'][1] += torch.randn(4, 512)
    with torch.no_grad(): y, y2 = back(x), back(x2)
    assert y.shape == (3, 4, 2)
    assert torch.equal(y[0], y2[0]) and torch.equal(y[2], y2[2]) and not torch.allclose(y[1], y2[1])


def test_release_mt_mixes_samples_and_ours_does_not(keys):
    "The release's MT attends across the batch axis (the reference reproduces it); the loaded jmt model does not."
    sd = random_release_sd(keys['mt'])
    with warnings.catch_warnings(): warnings.simplefilter('ignore'); model = load_release(sd)
    x = _x(2, 5); x2 = {m: v.clone() for m, v in x.items()}; x2['visual'][1] += 1
    with torch.no_grad():
        bug = [release_forward(sd, 'mt', t['audio'], t['visual'], mt_batch_bug=True)[0] for t in (x, x2)]
        ours = [model(t)[0] for t in (x, x2)]
    assert not torch.allclose(bug[0], bug[1])   # the release: sample 0 changed by sample 1
    assert torch.equal(ours[0], ours[1])


def test_load_release_errors(keys, tmp_path):
    sd = random_release_sd(keys['vanilla'])
    with pytest.raises(ValueError, match=r"missing \['mm_transformer.fc.bias'\]"):
        load_release({k: v for k, v in sd.items() if k != 'mm_transformer.fc.bias'})
    with pytest.raises(ValueError, match=r"unexpected \['linear.bias', 'linear.weight'\]"):  # vision_in_ft != 512
        load_release({**sd, 'linear.weight': torch.zeros(512, 768), 'linear.bias': torch.zeros(512)})
    with pytest.raises(ValueError, match='wrong shape'):
        load_release({**sd, 'mm_transformer.fc.weight': torch.zeros(512, 1536)})
    both = {**sd, **random_release_sd(keys['mt'])}
    with pytest.raises(ValueError, match='not one of the release'):
        load_release(both)
    torch.save({'optimizer': {'lr': 1e-3}}, tmp_path / 'opt.pth')
    with pytest.raises(ValueError, match='no state_dict'):
        load_release(tmp_path / 'opt.pth')


def test_loss_on_a_fixed_batch_is_two_minus_both_cccs():
    y = torch.tensor([[[.1, -.2], [.4, .3], [-.5, .6], [.2, -5.]], [[.3, .1], [-.2, -.4], [.0, .2], [.5, .7]]])
    p = torch.tensor([[[.0, -.1], [.5, .2], [-.3, .4], [.1, .9]], [[.2, .3], [-.1, -.5], [.1, .0], [.3, .6]]])
    def lin_ccc(a, b):  # population moments, by hand
        ma, mb = a.mean(), b.mean()
        return 2 * ((a - ma) * (b - mb)).mean() / (a.var(unbiased=False) + b.var(unbiased=False) + (ma - mb) ** 2)
    ok = y[..., 1] != -5  # the -5 arousal frame is left out
    cv, ca = lin_ccc(p[..., 0].reshape(-1), y[..., 0].reshape(-1)), lin_ccc(p[..., 1][ok], y[..., 1][ok])
    torch.testing.assert_close(ccc(p, y), torch.stack([cv, ca]))
    torch.testing.assert_close(ccc_loss(p, y), 2 - cv - ca)
    torch.testing.assert_close(ccc_loss(p, y, reduction='mean'), 1 - (cv + ca) / 2)


@pytest.fixture(scope='module')
def release_mt(keys):
    "(the release's MT with random weights loaded strictly from its key set, that state_dict)."
    sd = random_release_sd(keys['mt'])
    ref = ReleaseMT()
    ref.load_state_dict(sd)  # strict: the re-implementation has exactly the release's names and shapes
    return ref.eval(), sd


@pytest.mark.parametrize('T', [1, 4, 16])
@pytest.mark.parametrize('B', [1, 2, 3])
def test_exact_mt_is_the_release_as_written(release_mt, B, T):
    ref, sd = release_mt
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        model = load_release(sd, exact=True)
    assert not any("release's MT" in str(i.message) for i in w)  # nothing to warn about: it is the release's function
    x = _x(B, T, seed=B * 100 + T)
    with torch.no_grad():
        v, a = ref(x['audio'], x['visual'])
        ours = model(x)
    assert ours.shape == (B, T, 2)
    torch.testing.assert_close(ours, torch.stack([v, a], -1), atol=2e-6, rtol=0)  # float32: seen up to 8e-7
    x64 = {m: t.double() for m, t in x.items()}
    with torch.no_grad():  # in float64 the two agree to rounding: the same function, not a close one
        v64, a64 = ref.double()(x64['audio'], x64['visual'])
        torch.testing.assert_close(model.double()(x64), torch.stack([v64, a64], -1), atol=1e-12, rtol=0)
    ref.float(); model.float()
    with torch.no_grad():  # an all-valid mask is no mask
        assert torch.equal(model(x, {m: torch.ones(B, T, dtype=torch.bool) for m in x}), ours)


def test_default_mt_is_fixed_differs_and_warns_once(release_mt):
    ref, sd = release_mt
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        model = load_release(sd)
    msgs = [str(i.message) for i in w if "release's MT" in str(i.message)]
    assert len(msgs) == 1 and "joint_modalities='NONE'" in msgs[0] and 'exact=True' in msgs[0] and 'across the batch' in msgs[0]
    x = _x(1, 16)
    with torch.no_grad():
        v, a = ref(x['audio'], x['visual'])
        diff = (model(x) - torch.stack([v, a], -1)).abs().max().item()
        fixed_ref = release_forward(sd, 'mt', x['audio'], x['visual'])  # the fixed reference: encoders over T
    assert diff > 1e-3  # even at B = 1: there each clip of the release attends only to itself
    torch.testing.assert_close(model(x), fixed_ref, atol=1e-5, rtol=0)


@pytest.mark.parametrize('variant', ['jmt', 'jmt_fc', 'vanilla'])
def test_exact_is_the_default_where_the_release_has_no_forward_bug(keys, variant):
    sd = random_release_sd(keys[variant])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        fixed, exact = load_release(sd), load_release(sd, exact=True)
    assert not any("release's MT" in str(i.message) for i in w)
    for B, T in ((1, 4), (3, 16)):
        x = _x(B, T)
        with torch.no_grad():
            assert torch.equal(exact(x), fixed(x))
            torch.testing.assert_close(exact(x), release_forward(sd, variant, x['audio'], x['visual']), atol=1e-5, rtol=0)
