"""jmt.tasks.unimodal.train_backbone on real prepared synthetic data: the Learner trains the backbone, backbone.pt round-trips
through make_backbone and the extract_features CLI (whose index records the file's sha256)."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from jmt.features.backbones import make_backbone
from jmt.core import file_sha256
from jmt.tasks.extract import clip_dataset_for
from jmt.features.stats import clip_settings
from jmt.features.cache import load_features, read_index
from jmt.tasks.unimodal import train_backbone

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def affwild2(tiny_affwild2_prepared): return tiny_affwild2_prepared  # tests/conftest.py


def test_audio_affwild2_roundtrip_through_the_cli(affwild2, tmp_path, load_script):
    torch.manual_seed(0)
    init = make_backbone('audio', 'random')
    torch.save(init.state_dict(), tmp_path / 'init.pt')
    r = train_backbone(affwild2, 'audio', tmp_path / 'run', epochs=2, batch_size=8, lr=1e-3, weights=tmp_path / 'init.pt',
                       clip_stride=16, quiet=True, plot=False, patience=None)
    h = r['history']
    assert [e['epoch'] for e in h] == [1, 2] and all(k in h[0] for k in ('train_loss', 'valid_loss', 'valence', 'arousal', 'mean'))
    assert all(np.isfinite(e['train_loss']) and 0 <= e['train_loss'] <= 4 for e in h)  # 1 - CCC in [0, 2], summed over 2 targets
    assert r['config']['opt'] == 'adam' and r['config']['init_weights']['sha256'] == file_sha256(tmp_path / 'init.pt')
    assert r['weights_sha256'] == file_sha256(r['weights'])
    # the saved backbone is the trained one (not the initial one), and loads as ours
    sd = torch.load(r['weights'], weights_only=True)
    assert set(sd) == set(init.state_dict())
    assert any(not torch.equal(sd[k], v) for k, v in init.state_dict().items() if v.is_floating_point())
    # the CLI loads it and records its checksum; the cached rows equal the trained backbone's outputs
    cli = load_script('data_scripts/extract_features.py')
    cli.main(str(affwild2), backbone='audio', weights=str(r['weights']), cache=str(tmp_path / 'c'), clip_stride=16,
             names='val', num_workers=0)
    assert read_index(tmp_path / 'c', 'audio')['weights_sha256'] == file_sha256(r['weights'])
    ds = clip_dataset_for(affwild2, 'audio', names='val', clip_stride=16)
    feats = load_features(tmp_path / 'c', 'audio', clip_settings(ds))
    n = ds.names[0]
    model = r['learner'].model.backbone.eval().cpu()
    with torch.inference_mode(): ref = model(torch.stack([ds[i]['mel'] for i in range(ds.videos[n])]))
    torch.testing.assert_close(torch.from_numpy(feats[n].astype(np.float32)), ref, atol=2e-3 * ref.abs().max().item(), rtol=0)
    assert r['weights_sha256'] in (tmp_path / 'run' / 'config.json').read_text()  # the run's config names its output


def test_visual_affwild2_frozen_blocks(affwild2, tmp_path):
    torch.manual_seed(0)
    init = make_backbone('visual', 'random').state_dict()
    torch.save(init, tmp_path / 'init.pt')
    r = train_backbone(affwild2, 'visual', tmp_path / 'run', epochs=1, batch_size=2, weights=tmp_path / 'init.pt',
                       train=['103'], valid='val', clip_stride=16, img_size=16, freeze_until='layer4', quiet=True, plot=False)
    assert r['config']['frozen_blocks'] == ['stem', 'layer1', 'layer2', 'layer3'] and r['config']['opt'] == 'sgd'
    sd = torch.load(r['weights'], weights_only=True)
    assert torch.equal(sd['net.layer2.0.conv1.0.0.weight'], init['net.layer2.0.conv1.0.0.weight'])  # frozen
    assert not torch.equal(sd['net.layer4.1.conv2.0.3.weight'], init['net.layer4.1.conv2.0.3.weight'])  # trained
    assert r['settings']['img_size'] == 16 and r['settings']['clip_stride'] == 16
    make_backbone('visual', r['weights'])  # loads without error


def test_bio_biovid_cross_entropy(tmp_path):
    from jmt.data.biovid.prepare import prepare_biovid
    from jmt.data.biovid.synthetic import write_synthetic_biovid
    write_synthetic_biovid(tmp_path / 'raw', n_subjects=2, n_per_class=2, size=(80, 60))
    prepare_biovid(tmp_path / 'raw', tmp_path / 'prepared', progress=False, detector=None, size=32)
    r = train_backbone(tmp_path / 'prepared', 'bio', tmp_path / 'run', epochs=2, batch_size=4, weights='random',
                       quiet=True, plot=False)
    assert r['monitor'] == 'accuracy' and 0 <= r['best']['accuracy'] <= 1 and 'macro_f1' in r['best']
    assert r['config']['n_train'] == 4 * 6 and r['config']['n_valid'] == 4 * 2  # 8 BL1/PA4 windows, 5-fold split, 4 clips each
    assert r['settings']['n_clips'] == 4
    bb = make_backbone('bio', r['weights'], in_channels=3)  # all prepared channels: GSR, ECG, EMG
    assert bb.weights_sha256 == r['weights_sha256']
    g = train_backbone(tmp_path / 'prepared', 'bio', tmp_path / 'gsr', epochs=1, batch_size=4, weights='random',
                       channels=['gsr'], quiet=True, plot=False)  # the JMT setup: GSR only
    assert g['config']['backbone_config']['in_channels'] == 1 and g['settings']['channels'] == ['gsr']


def test_errors(affwild2, tmp_path):
    with pytest.raises(ValueError, match="task must be one of 'binary', 'multiclass', got 'regression'"):  # before any work
        train_backbone(affwild2, 'bio', tmp_path, task='regression', weights='random')
    with pytest.raises(ValueError, match='opt must be one of'):
        train_backbone(affwild2, 'audio', tmp_path, opt='lbfgs', weights='random')
    with pytest.raises(ValueError, match='fewer than one batch'):
        train_backbone(affwild2, 'audio', tmp_path, train=['video5'], valid='val', clip_stride=16, batch_size=64, weights='random')


def test_train_backbone_cli_help():
    import subprocess, sys
    r = subprocess.run([sys.executable, str(ROOT / 'data_scripts' / 'train_backbone.py'), '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and all(o in r.stdout for o in ('--prepared', '--backbone', '--weights', '--freeze_until'))


def test_train_backbone_cli_runs(affwild2, tmp_path, load_script):
    cli = load_script('data_scripts/train_backbone.py')
    w = cli.main(str(affwild2), backbone='audio', out=str(tmp_path / 'run'), weights='random', epochs=1, batch_size=8,
                 clip_stride=16, num_workers=0)
    assert w == tmp_path / 'run' / 'backbone.pt' and make_backbone('audio', w).weights_sha256 == file_sha256(w)


def test_resume_refuses_another_run(affwild2, tmp_path):
    "resume=True into an out_dir written with other settings raises (naming the keys) instead of mixing two runs; more epochs is the same run."
    kw = dict(epochs=1, batch_size=8, lr=1e-3, weights='random', clip_stride=16, quiet=True, plot=False, patience=None)
    train_backbone(affwild2, 'audio', tmp_path / 'run', **kw)
    with pytest.raises(ValueError, match=r"last\.pt.*\blr: 0\.001 → 0\.01.*resume=False"):
        train_backbone(affwild2, 'audio', tmp_path / 'run', **{**kw, 'lr': 1e-2}, resume=True)
    with pytest.raises(ValueError, match=r"valid_names\.sha256"):  # other validation persons
        train_backbone(affwild2, 'audio', tmp_path / 'run', **kw, train='train', valid='test', resume=True)
    r = train_backbone(affwild2, 'audio', tmp_path / 'run', **{**kw, 'epochs': 2}, resume=True)  # the same run, one more epoch
    assert [e['epoch'] for e in r['history']] == [1, 2]


def test_random_init_follows_the_seed(affwild2, tmp_path):
    "With weights='random' the backbone's initial weights come from `seed`: the same seed gives the same run, in one process."
    kw = dict(epochs=1, batch_size=8, lr=1e-3, weights='random', clip_stride=16, quiet=True, plot=False, patience=None)
    a = train_backbone(affwild2, 'audio', tmp_path / 'a', **kw, seed=3)
    torch.randn(100)  # the global RNG moved on: must not matter
    b = train_backbone(affwild2, 'audio', tmp_path / 'b', **kw, seed=3)
    assert a['weights_sha256'] == b['weights_sha256']
    c = train_backbone(affwild2, 'audio', tmp_path / 'c', **kw, seed=4)
    assert c['weights_sha256'] != a['weights_sha256']
