"""Pretrained weights by name (`kinetics400`, `imagenet`): the download is mocked (a state_dict of the right shapes, made on
the fly), the offline error names the file and where to put it, a file placed there is used without network, and the
feature cache records which weights made it."""
from urllib.error import URLError

import numpy as np
import pytest
import torch
from torchvision.models import resnet18
from torchvision.models.video import r2plus1d_18

from jmt.features.backbones import PretrainedMissingError, hub_path, make_backbone
from jmt.core import file_sha256
from jmt.features.cache import CacheMismatchError, read_index


@pytest.fixture
def hub(tmp_path, monkeypatch):
    "An empty torch hub cache, and a network that counts downloads and serves a fresh torchvision state_dict."
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    monkeypatch.setattr(torch.hub, '_hub_dir', None)
    calls = []
    def fake_download(url, dst, hash_prefix=None, progress=True):
        calls.append(url)
        torch.manual_seed(len(calls))
        net = r2plus1d_18() if 'r2plus1d' in url else resnet18()
        torch.save(net.state_dict(), dst)
    monkeypatch.setattr(torch.hub, 'download_url_to_file', fake_download)
    return calls


def _offline(monkeypatch):
    def no_network(url, dst, *a, **k): raise URLError('[Errno -3] Temporary failure in name resolution')
    monkeypatch.setattr(torch.hub, 'download_url_to_file', no_network)


def test_imagenet_downloads_once_and_sums_conv1(hub, monkeypatch):
    a = make_backbone('audio', 'imagenet')
    ck = hub_path('audio')
    assert hub == ['https://download.pytorch.org/models/resnet18-f37072fd.pth'] and ck.is_file()
    assert ck == type(ck)(torch.hub.get_dir()) / 'checkpoints' / 'resnet18-f37072fd.pth'
    tv = torch.load(ck, weights_only=True)
    torch.testing.assert_close(a.net.conv1.weight.detach(), tv['conv1.weight'].sum(1, keepdim=True))  # RGB -> 1 channel: sum
    torch.testing.assert_close(a.net.layer4[1].bn2.running_var, tv['layer4.1.bn2.running_var'])
    assert a.weights_source == 'imagenet' and a.weights_sha256 == file_sha256(ck)
    assert a.config == {'in_channels': 1, 'conv1_from_rgb': 'sum'}
    _offline(monkeypatch)  # the file is in the cache now: no network needed, and weights=None finds it too
    assert make_backbone('audio', 'imagenet').weights_sha256 == a.weights_sha256 == make_backbone('audio').weights_sha256
    assert hub == ['https://download.pytorch.org/models/resnet18-f37072fd.pth']


def test_kinetics400_downloads(hub):
    v = make_backbone('visual', 'kinetics400', img_size=32)
    ck = hub_path('visual')
    assert ck.name == 'r2plus1d_18-91a641e6.pth' and len(hub) == 1
    tv = torch.load(ck, weights_only=True)
    torch.testing.assert_close(v.net.stem[0].weight, tv['stem.0.weight'])
    assert v.weights_source == 'kinetics400' and v.weights_sha256 == file_sha256(ck)
    with pytest.raises(ValueError, match="pretrained weights are 'kinetics400'"): make_backbone('visual', 'imagenet')


def test_offline_error_names_the_file_and_place(hub, monkeypatch):
    _offline(monkeypatch)
    ck = hub_path('visual')
    with pytest.raises(PretrainedMissingError) as e: make_backbone('visual', 'kinetics400')
    msg = str(e.value)
    assert str(ck) in msg and 'https://download.pytorch.org/models/r2plus1d_18-91a641e6.pth' in msg
    assert 'torch.hub.get_dir()/checkpoints/r2plus1d_18-91a641e6.pth' in msg and 'name resolution' in msg
    assert not ck.exists()
    # placed by hand (here: a random torchvision R(2+1)D-18), it is then used without network
    torch.save(r2plus1d_18().state_dict(), ck)
    assert make_backbone('visual', 'kinetics400').weights_sha256 == file_sha256(ck)


def test_random_and_local_file_still_work(hub, tmp_path):
    r0, r1 = make_backbone('audio', 'random', seed=0), make_backbone('audio', 'random', seed=0)
    assert r0.weights_sha256 == r1.weights_sha256 and r0.config == {'in_channels': 1} and hub == []
    torch.save(r0.state_dict(), tmp_path / 'a.pt')
    assert make_backbone('audio', tmp_path / 'a.pt').weights_sha256 == file_sha256(tmp_path / 'a.pt')


def test_extract_features_cli_passes_weights_through(hub, tiny_affwild2_prepared, tmp_path, load_script):
    "`--weights imagenet` reaches the backbone, and the cache records the name and checksum; random weights are refused there."
    cli = load_script('data_scripts/extract_features.py')
    kw = dict(backbone='audio', cache=str(tmp_path / 'c'), clip_stride=16, names='val', num_workers=0)
    cli.main(str(tiny_affwild2_prepared), weights='imagenet', **kw)
    idx = read_index(tmp_path / 'c', 'audio')
    assert idx['weights'] == 'imagenet' and idx['weights_sha256'] == file_sha256(hub_path('audio'))
    assert idx['backbone_config'] == {'in_channels': 1, 'conv1_from_rgb': 'sum'}
    assert all(np.isfinite(np.load(tmp_path / 'c' / 'audio' / f'{v}.npy')).all() for v in idx['videos'])
    with pytest.raises(CacheMismatchError, match="weights: cache has 'imagenet', requested 'random init'"):
        cli.main(str(tiny_affwild2_prepared), weights='random', **kw)
