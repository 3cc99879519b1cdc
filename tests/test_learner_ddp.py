"""Distributed training: 2 gloo processes under torchrun give the same validation CCC as 1 process.

Tolerances (and why):
- validation of the same initial model: 1e-6 (predictions are gathered in dataset order, the sampler's padding is
  dropped, one CCC on the whole set: only float summation order can differ);
- training with a per-sample-mean loss (MSE), per-rank batch = half the single-process batch, same DistributedSampler
  shuffle: the two half-batches are the single-process batch and DDP averages gradients, so weights and CCC agree to 1e-5;
- training with the CCC loss: CCC of a batch is not the mean of its halves' CCCs, so the gradients differ (each rank's CCC
  is estimated from 2 sequences x 4 clips); after 2 epochs of the toy problem we measured 0.91 vs 0.86 mean CCC, and
  allow 0.1 (both runs must also have learned: > 0.5 above the untrained model).
"""
import json, os, subprocess, sys, textwrap
from pathlib import Path
import pytest, torch

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent('''
    import json, sys
    from pathlib import Path
    import torch
    from torch.utils.data import DataLoader, DistributedSampler
    from jmt.learn.distributed import setup_distributed, cleanup_distributed, is_dist, rank, world_size
    from jmt.learn.learner import Learner
    from jmt.data.affwild2.synthetic import SynthSeq, ToyRegressor
    from jmt.learn.callbacks import NonFiniteLossError, fit_cbs

    def ccc(p, y, m=None):
        p, y = p.reshape(-1, p.shape[-1]), y.reshape(-1, y.shape[-1])
        vp, vy = p.var(0, unbiased=False), y.var(0, unbiased=False)
        return 2 * ((p - p.mean(0)) * (y - y.mean(0))).mean(0) / (vp + vy + (p.mean(0) - y.mean(0)) ** 2)
    ccc_loss = lambda p, y, m=None: (1 - ccc(p, y, m)).mean()
    mse = lambda p, y, m=None: ((p - y) ** 2).mean()
    metric = lambda p, y, m=None: {'mean': ccc(p, y, m).mean().item(), 'n': float(p.shape[0])}

    def learner(loss, out, bs_total=4, **kw):
        ws = world_size()
        tds, vds = SynthSeq(n=40, seed=0), SynthSeq(n=13, seed=1)   # 13 items: the 2-rank sampler pads one
        # one process uses the DistributedSampler shuffle too, so that both runs see the same batches
        smp = None if is_dist() else DistributedSampler(tds, num_replicas=1, rank=0, shuffle=True, seed=0)
        train = DataLoader(tds, batch_size=bs_total // ws, sampler=smp, shuffle=is_dist())
        torch.manual_seed(0)
        return Learner(ToyRegressor(), train, DataLoader(vds, batch_size=3), loss, metric, lr=0.05, path=out,
                       cbs=fit_cbs(patience=None, load_best=False, quiet=True, plot=False), **kw)

    def main(out):
        setup_distributed('gloo')
        torch.set_num_threads(1)
        out = Path(out); res = {'world_size': world_size()}
        l = learner(mse, out/f'mse_rank{rank()}')
        res['init'] = l.validate()   # before fit: the DistributedTrainer shards and gathers
        res['mse'] = l.fit(2); res['mse_w'] = l.model.fc.weight.flatten().tolist()
        res['ccc'] = learner(ccc_loss, None).fit(2)
        class NaNOnRank1:  # only rank 1 (or the single process) sees a NaN, at its 3rd batch of epoch 1
            n = 0
            def __call__(self, p, y, m=None):
                self.n += p.requires_grad
                bad = self.n == 3 and rank() == world_size() - 1
                return mse(p, y) * (float('nan') if bad else 1.)
        try: learner(NaNOnRank1(), None).fit(1); res['nan'] = None
        except NonFiniteLossError as e: res['nan'] = str(e)
        if rank() == 0: (out/f'res{world_size()}.json').write_text(json.dumps(res))
        cleanup_distributed()

    if __name__ == '__main__': main(sys.argv[1])
''')


def _run(tmp_path, n):
    script = tmp_path/'ddp_toy.py'
    script.write_text(SCRIPT)
    env = {**os.environ, 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': '1'}
    cmd = [sys.executable, str(script), str(tmp_path)] if n == 1 else \
          [sys.executable, '-m', 'torch.distributed.run', '--standalone', f'--nproc_per_node={n}', str(script), str(tmp_path)]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    return json.loads((tmp_path/f'res{n}.json').read_text())


@pytest.mark.skipif(not torch.distributed.is_available(), reason='torch.distributed not available')
def test_ddp_two_gloo_processes_match_one(tmp_path):
    r1, r2 = _run(tmp_path, 1), _run(tmp_path, 2)
    assert (r1['world_size'], r2['world_size']) == (1, 2)
    # the validation set is seen exactly once (13 items, not the 14 the padded sampler hands out)
    assert r1['init']['n'] == r2['init']['n'] == 13.0
    assert abs(r1['init']['mean'] - r2['init']['mean']) < 1e-6
    assert abs(r1['init']['valid_loss'] - r2['init']['valid_loss']) < 1e-6
    # MSE training: the same run up to float summation order
    for a, b in zip(r1['mse'], r2['mse']):
        assert abs(a['mean'] - b['mean']) < 1e-5 and abs(a['train_loss'] - b['train_loss']) < 1e-5, (a, b)
    assert max(abs(a - b) for a, b in zip(r1['mse_w'], r2['mse_w'])) < 1e-5
    assert r1['mse'][-1]['mean'] > r1['init']['mean'] + 0.05        # it actually trained
    # CCC training: close, not identical (stated tolerance)
    assert abs(r1['ccc'][-1]['mean'] - r2['ccc'][-1]['mean']) < 0.1
    assert min(r1['ccc'][-1]['mean'], r2['ccc'][-1]['mean']) > r1['init']['mean'] + 0.5
    # a NaN on one rank stops every rank (no hang), with the epoch/batch in the message
    assert r1['nan'] and 'at epoch 1, batch 3' in r1['nan']
    assert r2['nan'] and 'at epoch 1, batch 3' in r2['nan']
    # only rank 0 writes
    assert (tmp_path/'mse_rank0'/'last.pt').is_file() and not (tmp_path/'mse_rank1').exists()
