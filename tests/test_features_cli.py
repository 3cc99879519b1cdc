"""data_scripts/extract_features.py: a thin CLI that builds the dataset through jmt.data and resumes/refuses like the library."""
import importlib.util, subprocess, sys, types
from pathlib import Path

import pytest
import torch

from jmt.features import load_features

ROOT = Path(__file__).resolve().parents[1]


def _script():
    spec = importlib.util.spec_from_file_location('extract_features_cli', ROOT / 'data_scripts' / 'extract_features.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


class FakeAffWild2Clips(torch.utils.data.Dataset):
    "Stands in for jmt.data.affwild2.AffWild2Clips (shared raw-clip interface)."
    settings = {'fps': 30, 'n_mels': 64}
    def __init__(self, prepared, modalities=('audio',), **kw):
        self.items = [(f'video{v}', k) for v in range(2) for k in range(3)]
        self.clip_keys = list(self.items)
    def __len__(self): return len(self.items)
    def __getitem__(self, i):
        torch.manual_seed(i)
        return {'video': self.items[i][0], 'clip': self.items[i][1], 'mel': torch.randn(1, 64, 51), 'audio_ok': True}


def test_cli_with_dataset_module(tmp_path, monkeypatch):
    fake = types.ModuleType('jmt.data.affwild2'); fake.AffWild2Clips = FakeAffWild2Clips
    monkeypatch.setitem(sys.modules, 'jmt.data.affwild2', fake)
    cli = _script()
    w = tmp_path / 'audio.pth'
    torch.save(__import__('jmt.backbones', fromlist=['x']).make_backbone('audio', 'random').state_dict(), w)
    folder = cli.main(str(tmp_path), backbone='audio', weights=str(w), num_workers=0, batch_size=4)
    assert folder == tmp_path / 'features' / 'audio'
    feats = load_features(tmp_path / 'features', 'audio', {'fps': 30, 'n_mels': 64})
    assert {k: v.shape for k, v in feats.items()} == {'video0': (3, 512), 'video1': (3, 512)}
    cli.main(str(tmp_path), backbone='audio', weights=str(w), num_workers=0)  # resumes: nothing to do
    torch.save(__import__('jmt.backbones', fromlist=['x']).make_backbone('audio', 'random').state_dict(), tmp_path / 'b.pth')
    with pytest.raises(ValueError, match='weights_sha256'):
        cli.main(str(tmp_path), backbone='audio', weights=str(tmp_path / 'b.pth'), num_workers=0)


def test_cli_missing_dataset_module_is_a_clear_error(tmp_path):
    cli = _script()
    if importlib.util.find_spec('jmt.data') is None:
        with pytest.raises(ImportError, match='jmt.data.biovid.BioVidClips'): cli.clip_dataset_for(tmp_path, 'bio')
    with pytest.raises(ValueError, match='unknown dataset'): cli.clip_dataset_for(tmp_path, 'bio', 'recola')


def test_cli_help():
    r = subprocess.run([sys.executable, str(ROOT / 'data_scripts' / 'extract_features.py'), '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and '--prepared' in r.stdout and '--weights' in r.stdout
