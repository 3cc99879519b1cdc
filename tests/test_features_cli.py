"""data_scripts/extract_features.py: the real CLI on a tiny prepared synthetic Aff-Wild2 (made on the fly)."""
import json, subprocess, sys
from pathlib import Path

import numpy as np
import pytest
import torch

from jmt.features.backbones import make_backbone
from jmt.core import ArgumentError, file_sha256
from jmt.data.affwild2.clips import AffWild2Clips
from jmt.features.cache import CacheMismatchError, load_features, read_index
from jmt.tasks.extract import clip_dataset_for
from jmt.features.stats import clip_settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def prepared(tiny_affwild2_prepared): return tiny_affwild2_prepared  # tests/conftest.py


def test_clip_dataset_for_maps_to_the_real_classes(prepared):
    ds = clip_dataset_for(prepared, 'visual', clip_stride=8, img_size=32, names='val')
    assert isinstance(ds, AffWild2Clips) and ds.modalities == ('visual',)
    assert ds.settings['clip_stride'] == 8 and ds.settings['img_size'] == 32
    assert all(ds.index['videos'][n]['split'] == 'val' for n in ds.names)
    it = ds[0]
    assert it['frames'].shape == (3, 8, 32, 32) and 'mel' not in it
    assert clip_settings(ds) == json.loads(json.dumps(ds.settings))


def test_cli_visual_roundtrip(prepared, tmp_path, load_script):
    "The real CLI on real clips: one row per clip equal to the backbone's output, the weights file's sha256 recorded."
    cli = load_script('data_scripts/extract_features.py')
    torch.manual_seed(0)
    w = tmp_path / 'backbone.pt'
    torch.save(make_backbone('visual', 'random').state_dict(), w)
    folder = cli.main(str(prepared), backbone='visual', weights=str(w), cache=str(tmp_path / 'c'), img_size=32,
                      clip_stride=16, names='val', num_workers=0, batch_size=4)
    assert folder == tmp_path / 'c' / 'visual'
    idx = read_index(tmp_path / 'c', 'visual')
    assert idx['weights_sha256'] == file_sha256(w)
    assert idx['settings']['clip_stride'] == 16 and idx['settings']['img_size'] == 32
    ds = AffWild2Clips(prepared, names='val', clip_stride=16, img_size=32, modalities=('visual',))
    assert idx['videos'] == ds.videos
    feats = load_features(tmp_path / 'c', 'visual', clip_settings(ds))
    n = ds.names[0]
    bb = make_backbone('visual', w).eval()
    with torch.inference_mode(): ref = bb(torch.stack([ds[i]['frames'] for i in range(ds.videos[n])]))
    torch.testing.assert_close(torch.from_numpy(feats[n].astype(np.float32)), ref, atol=2e-3 * ref.abs().max().item(), rtol=0)
    # resumes (nothing to do), and refuses other clip settings or other weights
    mtime = (folder / f'{n}.npy').stat().st_mtime_ns
    cli.main(str(prepared), backbone='visual', weights=str(w), cache=str(tmp_path / 'c'), img_size=32, clip_stride=16,
             names='val', num_workers=0)
    assert (folder / f'{n}.npy').stat().st_mtime_ns == mtime
    with pytest.raises(CacheMismatchError, match="settings\\['clip_stride'\\]: cache has 16, requested 32"):
        cli.main(str(prepared), backbone='visual', weights=str(w), cache=str(tmp_path / 'c'), img_size=32, names='val', num_workers=0)
    torch.save(make_backbone('visual', 'random').state_dict(), tmp_path / 'other.pt')
    with pytest.raises(CacheMismatchError, match='weights_sha256'):
        cli.main(str(prepared), backbone='visual', weights=str(tmp_path / 'other.pt'), cache=str(tmp_path / 'c'),
                 img_size=32, clip_stride=16, names='val', num_workers=0)


def test_cli_audio_subprocess_with_names(prepared, tmp_path):
    "As a user runs it: a subprocess, one split."
    w = tmp_path / 'audio.pt'
    torch.save(make_backbone('audio', 'random').state_dict(), w)
    r = subprocess.run([sys.executable, str(ROOT / 'data_scripts' / 'extract_features.py'), '--prepared', str(prepared),
                        '--backbone', 'audio', '--weights', str(w), '--cache', str(tmp_path / 'c'), '--clip_stride', '16',
                        '--names', 'val', '--num_workers', '0'], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    idx = read_index(tmp_path / 'c', 'audio')
    val = sorted(n for n, v in json.loads((prepared / 'index.json').read_text())['videos'].items() if v['split'] == 'val')
    assert sorted(idx['videos']) == val and idx['weights_sha256'] == file_sha256(w)
    assert f"{len(val)} videos" in r.stdout


def test_cli_errors(prepared, tmp_path, load_script):
    cli = load_script('data_scripts/extract_features.py')
    with pytest.raises(ArgumentError, match="backbone must be one of 'visual', 'audio', 'bio', got 'text'"): cli.main(str(prepared), backbone='text')
    with pytest.raises(ValueError, match="affwild2 has no 'bio'"): cli.main(str(prepared), backbone='bio', dataset='affwild2')
    with pytest.raises(ValueError, match='dataset must be one of'): clip_dataset_for(prepared, 'bio', 'recola')
    with pytest.raises(FileNotFoundError, match='nothing.pt'):
        cli.main(str(prepared), backbone='audio', weights=str(tmp_path / 'nothing.pt'), cache=str(tmp_path / 'c'))


def test_cli_help():
    r = subprocess.run([sys.executable, str(ROOT / 'data_scripts' / 'extract_features.py'), '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and all(o in r.stdout for o in ('--prepared', '--weights', '--clip_stride', '--n_clips', '--names'))


def test_default_workers_follow_the_device(monkeypatch, load_script):
    "1 worker on a CPU; on a GPU every usable core but one, capped at 8, and never fewer than 1."
    import os, jmt.core
    cli = load_script('data_scripts/extract_features.py')
    assert cli.default_workers('cpu') == 1
    monkeypatch.setattr(jmt.core, 'get_device', lambda d=None: torch.device('cuda'))
    for cores, want in ((16, 8), (4, 3), (1, 1)):
        monkeypatch.setattr(os, 'sched_getaffinity', lambda pid, n=cores: set(range(n)))
        assert cli.default_workers(None) == want
