"""Resume after a real kill (SIGKILL mid-epoch) equals the uninterrupted run; a NaN keeps the last good checkpoint."""
import os, signal, subprocess, sys, textwrap
from pathlib import Path
import pytest, torch
from torch.utils.data import DataLoader

from jmt.core import file_sha256
from jmt.learn.learner import Learner
from jmt.data.affwild2.synthetic import SynthSeq, ToyRegressor
from jmt.learn.callbacks import NonFiniteLossError, fit_cbs
from jmt.learn.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]


def ccc(p, y, m=None):
    p, y = p.reshape(-1, p.shape[-1]), y.reshape(-1, y.shape[-1])
    vp, vy = p.var(0, unbiased=False), y.var(0, unbiased=False)
    return 2 * ((p - p.mean(0)) * (y - y.mean(0))).mean(0) / (vp + vy + (p.mean(0) - y.mean(0)) ** 2)

def ccc_loss(p, y, m=None): return (1 - ccc(p, y, m)).mean()
def metric(p, y, m=None):
    c = ccc(p, y, m)
    return {'valence': c[0].item(), 'arousal': c[1].item(), 'mean': c.mean().item()}


def make(path, init_seed=0, loss=ccc_loss, cbs=()):
    "Dropout in the model and a shuffling loader: both draw from the RNGs a resume must restore."
    torch.manual_seed(init_seed)
    toy = ToyRegressor()
    class Drop(torch.nn.Module):
        def __init__(self): super().__init__(); self.toy, self.drop = toy, torch.nn.Dropout(0.2)
        def forward(self, x, mask=None): return self.toy({k: self.drop(v) for k, v in x.items()}, mask)
    tr = DataLoader(SynthSeq(n=24, seed=0), batch_size=2, shuffle=True)
    va = DataLoader(SynthSeq(n=8, seed=1), batch_size=4)
    return Learner(Drop(), tr, va, loss, metric, lr=0.05, path=path, cbs=[*fit_cbs(patience=None, quiet=True, plot=False), *cbs])

KILLER = textwrap.dedent('''
    import os, signal, sys
    sys.path.insert(0, sys.argv[2])
    from test_learner_resume import make
    from jmt.learn.events import Callback
    class Kill(Callback):
        def after_batch(self):
            if self.learn.epoch == 2 and self.learn.iter == 4: os.kill(os.getpid(), signal.SIGKILL)  # no cleanup at all
    make(sys.argv[1], cbs=[Kill()]).fit(4)
''')

strip = lambda h: [{k: v for k, v in r.items() if k != 'time'} for r in h]


def test_resume_after_sigkill_equals_uninterrupted(tmp_path):
    ref = make(tmp_path/'ref'); href = ref.fit(4)
    script = tmp_path/'killer.py'; script.write_text(KILLER)
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': str(torch.get_num_threads())}
    p = subprocess.run([sys.executable, str(script), str(tmp_path/'run'), str(Path(__file__).parent)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == -signal.SIGKILL, p.stderr[-2000:]
    files = sorted(f.name for f in (tmp_path/'run').iterdir())
    assert [f for f in files if not f.startswith('.')] == ['best.pt', 'history.json', 'last.pt', 'timings.json']
    assert load_checkpoint(tmp_path/'run'/'last.pt')['epoch'] == 2
    res = make(tmp_path/'run', init_seed=99)          # a different initial model: everything comes from last.pt
    hres = res.fit(4, resume=True)
    assert strip(hres) == strip(href)
    for k, v in ref.model.state_dict().items(): assert torch.equal(res.model.state_dict()[k], v), k
    assert res.checkpoint.best_epoch == ref.checkpoint.best_epoch
    # without resume the same folder starts afresh (and is also identical to the reference)
    assert strip(make(tmp_path/'run').fit(4)) == strip(href)


def test_nan_keeps_last_good_checkpoint(tmp_path):
    calls = {'n': 0}
    def bad_loss(p, y, m=None):
        calls['n'] += p.requires_grad
        return ccc_loss(p, y, m) + (float('inf') if calls['n'] == 12 + 3 else 0.)   # epoch 2 (12 batches/epoch), batch 3
    l = make(tmp_path, loss=bad_loss)
    with pytest.raises(NonFiniteLossError, match=r'inf.*at epoch 2, batch 3.*last\.pt'):
        l.fit(3)
    ck = load_checkpoint(tmp_path/'last.pt')
    assert ck['epoch'] == 1 and len(ck['cbs']['recorder']['history']) == 1
    sha = file_sha256(tmp_path/'last.pt')
    assert all(torch.isfinite(v).all() for v in l.model.state_dict().values())
    # the loss is fine again: resuming continues from epoch 1
    l2 = make(tmp_path); h = l2.fit(3, resume=True)
    assert [r['epoch'] for r in h] == [1, 2, 3] and file_sha256(tmp_path/'last.pt') != sha


def test_resume_needs_a_folder_and_warns_when_empty(tmp_path):
    with pytest.raises(ValueError, match='needs a run folder'): make(None).fit(1, resume=True)
    with pytest.warns(UserWarning, match='nothing to resume'): h = make(tmp_path/'new').fit(1, resume=True)
    assert len(h) == 1
