"""Parameters, forward FLOPs and one fusion training step of RJCMA and JCA (jmt.models.peers) next to JMT, measured in one run.

All three are built by `jmt.models.registry.make_model` with their Aff-Wild2 audio+visual presets (512-d clip features, 2 targets,
T = 16 clips: JMT's official release, RJCMA and JCA at jmt's clip level). One step = forward, 1 - CCC loss, backward and
the paper's SGD step (lr 5e-4, Nesterov momentum 0.9, weight decay 1e-4), the same for every model (`bench/fusion_step.py`'s
`make_step` and interleaved `timeit`: CPU-seconds of this process on CPU, wall clock on CUDA). Ratios are model time / JMT
time from the same run; absolute times on a shared machine are noise. Usage: `python bench/peers.py [--reps 20] [--device cpu|cuda]`.
"""
import os
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # shared machine: idle OpenMP threads must not spin (set before torch)
import argparse, importlib.util
from pathlib import Path

import torch

from jmt.models.registry import count_flops, make_model
from jmt.models.jmt import count_params

MODELS = ('jmt', 'rjcma', 'jca')
MODS = ('visual', 'audio')


def _fusion_step():
    "bench/fusion_step.py as a module (its `make_step` and `timeit`), without running its CLI."
    spec = importlib.util.spec_from_file_location('fusion_step', Path(__file__).with_name('fusion_step.py'))
    m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
    return m


def measure(B:int=2, T:int=16, reps:int=20, device:str='cpu', models=MODELS) -> list[dict]:
    "One row per model: parameters, forward MFLOPs (B=1) and the median step time, plus its ratio to JMT's."
    fs, dev = _fusion_step(), torch.device(device)
    nets, steps = {}, []
    for name in models:
        torch.manual_seed(0)
        nets[name] = make_model(name, **({'T': T} if name != 'jmt' else {})).to(dev)
    g = torch.Generator().manual_seed(B)
    x = {m: torch.randn(B, T, 512, generator=g).to(dev) for m in MODS}
    y = (torch.rand(B, T, 2, generator=g) * 2 - 1).to(dev)
    times = fs.timeit([fs.make_step(nets[n], x, y) for n in models], reps, dev)
    t0 = dict(zip(models, times)).get('jmt', times[0])
    return [dict(model=n, params=count_params(nets[n]), mflops=count_flops(nets[n].eval(), 1, T) / 1e6, B=B, ms=t * 1e3, ratio=t / t0)
            for n, t in zip(models, times)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--reps', type=int, default=20, help='timed repetitions per model and batch size')
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--T', type=int, default=16, help='clips per sequence')
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (1: per-core figures, robust on a shared machine)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"device {a.device}, torch {torch.__version__}, threads {torch.get_num_threads()}, T={a.T}, reps={a.reps}, "
          f"load average {os.getloadavg()[0]:.1f} (nproc {os.cpu_count()})")
    print(f"{'model':<7}{'params':>13}{'MFLOPs/seq':>12}{'B':>4}{'step ms':>10}{'x JMT':>7}")
    for B in (2, 8):
        for r in measure(B, a.T, a.reps, a.device):
            print(f"{r['model']:<7}{r['params']:>13,}{r['mflops']:>12.1f}{B:>4}{r['ms']:>10.1f}{r['ratio']:>7.2f}")
    print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == '__main__':
    main()
