"""Feature extraction killed with SIGKILL mid-run and resumed gives the same cache as an uninterrupted run."""
import os, signal, subprocess, sys, time
from pathlib import Path

import numpy as np
import pytest
import torch

from jmt.features.backbones import make_backbone
from jmt.features.cache import extract_features, load_features, read_index

ROOT = Path(__file__).resolve().parents[1]

# A raw-clip dataset in the shared item format (bio modality: cheap backbone), slow enough to be killed mid-way.
DATASET = '''
import time, torch
from torch.utils.data import Dataset
class SlowClips(Dataset):
    def __init__(self, n_videos=12, n_clips=5, delay=0.0, keys=True):
        self.items = [(f"v{v:02d}", k) for v in range(n_videos) for k in range(n_clips)]
        self.delay = delay
        if keys: self.clip_keys = list(self.items)
    def __len__(self): return len(self.items)
    def __getitem__(self, i):
        time.sleep(self.delay)
        v, k = self.items[i]
        g = torch.Generator().manual_seed(i)
        return {"video": v, "clip": k, "signal": torch.randn(2, 700, generator=g), "label": torch.tensor(0)}
'''

RUN = DATASET + '''
import sys
from jmt.features.backbones import make_backbone
from jmt.features.cache import extract_features
bb = make_backbone("bio", sys.argv[1], in_channels=2)
extract_features(SlowClips(delay=0.03, keys=sys.argv[3] == "1"), "bio", sys.argv[2], bb, {"fs": 128}, batch_size=3, progress=False)
print("finished")
'''


def _ns():
    ns = {}
    exec(DATASET, ns)
    return ns['SlowClips']


@pytest.mark.parametrize('keys', [True])  # keys=False (items read in order) is killed and resumed in nbs/22_features.cache.ipynb
def test_sigkill_then_resume_equals_uninterrupted(tmp_path, keys):
    SlowClips = _ns()
    torch.manual_seed(0)
    w = tmp_path / 'bio.pth'
    torch.save(make_backbone('bio', 'random', in_channels=2).state_dict(), w)
    script = tmp_path / 'run.py'
    script.write_text(RUN)
    env = {**os.environ, 'PYTHONPATH': str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', '')}
    res = tmp_path / 'resumed'
    p = subprocess.Popen([sys.executable, str(script), str(w), str(res), '1' if keys else '0'], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        t0 = time.time()
        while time.time() - t0 < 40:  # wait until at least two videos are complete, then kill without warning
            idx = read_index(res, 'bio') if (res / 'bio' / 'index.json').exists() else None
            if idx and len(idx['videos']) >= 2: break
            assert p.poll() is None, p.communicate()
            time.sleep(0.05)
        p.send_signal(signal.SIGKILL)
        p.wait(10)
    finally:
        if p.poll() is None: p.kill()
    assert p.returncode == -signal.SIGKILL, 'the extraction finished before it could be killed: make it slower'
    partial = read_index(res, 'bio')['videos']
    assert 2 <= len(partial) < 12
    # every file present is complete (atomic writes): no temporary files survive except possibly one in flight
    names = sorted(o.name for o in (res / 'bio').iterdir() if not o.name.startswith('.'))
    assert set(names) >= {f'{v}.npy' for v in partial} | {'index.json'}
    for v, n in partial.items(): assert np.load(res / 'bio' / f'{v}.npy').shape == (n, 512)

    bb = make_backbone('bio', w, in_channels=2)
    extract_features(SlowClips(keys=keys), 'bio', res, bb, {'fs': 128}, batch_size=3, progress=False)
    full = extract_features(SlowClips(keys=keys), 'bio', tmp_path / 'full', bb, {'fs': 128}, batch_size=3, progress=False)
    a, b = load_features(res, 'bio', {'fs': 128}, backbone=bb), load_features(tmp_path / 'full', 'bio', {'fs': 128})
    assert sorted(a) == sorted(b) == [f'v{v:02d}' for v in range(12)]
    for v in a:  # identical up to fp16 rounding of the same fp32 values (batch composition may differ)
        np.testing.assert_allclose(a[v].astype(np.float32), b[v].astype(np.float32), rtol=2e-3, atol=1e-4)
