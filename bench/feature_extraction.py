#!/usr/bin/env python
"""Feature-extraction throughput of the frozen backbones (clips/s), measured side by side in one run.

CPU: visual R(2+1)D-18 at 112x112 and 64x64, audio ResNet-18 on 1x64x101 log-mels, bio 1-D CNN, fp32, a few batch sizes.
CPU rates are clips per CPU-second of this process (`time.process_time`; with the default 1 thread: per core), so they
do not count time spent waiting for a core on a loaded machine. CUDA (if available, wall clock with synchronisation):
fp32 vs bf16/fp16 autocast + channels-last, and torch.compile. Random weights (speed does not depend on them). Compare ratios within one run; machine noise on shared CPUs is +-20%.

    python bench/feature_extraction.py            # < 2 min on CPU (1 thread)
    python bench/feature_extraction.py --quick    # one batch size per row
"""
from __future__ import annotations
import os
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # shared machine: idle OpenMP threads must not spin (set before torch)
import argparse, time

import torch

from jmt.backbones import make_backbone
from jmt.core import autocast_dtype, set_seed


def clips_per_s(model, x, reps=2, dtype=None, channels_last=False):
    "Clips per second of `model` on batch `x` (one warm-up pass, then `reps` timed passes); per CPU-second on CPU."
    dev = x.device
    clock = time.process_time if dev.type == 'cpu' else time.perf_counter  # CPU: not counting waits for a core
    if channels_last:
        fmt = torch.channels_last_3d if x.ndim == 5 else torch.channels_last
        model, x = model.to(memory_format=fmt), x.contiguous(memory_format=fmt)
    sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
    with torch.inference_mode(), torch.autocast(dev.type, dtype=dtype or torch.float32, enabled=dtype is not None):
        model(x); sync()
        t = clock()
        for _ in range(reps): model(x)
        sync()
    return reps*len(x)/(clock() - t)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='one batch size per row')
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (1: per-core figures, robust on a shared machine)')
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    set_seed(0)
    rows = [('visual', 112, (1, 4)), ('visual', 64, (1, 8)), ('audio', None, (1, 32)), ('bio', None, (1, 32))]
    inputs = {'visual': lambda b, s: torch.randn(b, 3, 8, s, s), 'audio': lambda b, s: torch.randn(b, 1, 64, 101),
              'bio': lambda b, s: torch.randn(b, 1, 2816)}
    models = {m: make_backbone(m, 'random').eval() for m in ('visual', 'audio', 'bio')}
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, CUDA: {torch.cuda.is_available()}, "
          f"load average {os.getloadavg()[0]:.1f} (nproc {os.cpu_count()})")
    best = {}
    print(f"{'device':6s} {'backbone':8s} {'input':>18s} {'batch':>5s} {'mode':>22s} {'clips/s':>9s} {'ms/clip':>8s}")
    def show(dev, m, shape, b, mode, r):
        best[dev, m, shape, mode] = max(best.get((dev, m, shape, mode), 0.), r)
        print(f"{dev:6s} {m:8s} {shape:>18s} {b:5d} {mode:>22s} {r:9.1f} {1000/r:8.2f}", flush=True)
    t0 = time.perf_counter()
    for m, s, bss in rows:
        for b in (bss[-1:] if a.quick else bss):
            x = inputs[m](b, s)
            show('cpu', m, 'x'.join(map(str, x.shape[1:])), b, 'fp32', clips_per_s(models[m], x, reps=1 if m == 'visual' and s == 112 else 2))
    if torch.cuda.is_available():
        dev = torch.device('cuda'); adt = autocast_dtype(dev)
        for m, s, _ in rows:
            b = 64 if m == 'visual' else 256
            x, mod = inputs[m](b, s).to(dev), make_backbone(m, 'random').eval().to(dev)
            shape = 'x'.join(map(str, x.shape[1:]))
            base = clips_per_s(mod, x, reps=5)
            show('cuda', m, shape, b, 'fp32', base)
            r = clips_per_s(mod, x, reps=5, dtype=adt, channels_last=m != 'bio')
            show('cuda', m, shape, b, f'{str(adt)[6:]}+channels-last', r)
            try:
                comp = torch.compile(mod)
                r = clips_per_s(comp, x, reps=5, dtype=adt, channels_last=m != 'bio')
                show('cuda', m, shape, b, f'{str(adt)[6:]}+cl+compile', r)
            except Exception as e: print(f"torch.compile failed for {m}: {type(e).__name__}: {e}")
    v112, v64 = best['cpu', 'visual', '3x8x112x112', 'fp32'], best['cpu', 'visual', '3x8x64x64', 'fp32']
    print(f"ratios (best batch): visual 64x64 / 112x112 = {v64/v112:.2f}x; audio / visual(112) = "
          f"{best['cpu', 'audio', '1x64x101', 'fp32']/v112:,.0f}x; frames/s fed by visual 112 on CPU: {8*v112:,.0f}")
    cuda = {k: v for k, v in best.items() if k[0] == 'cuda'}
    for (dev, m, shape, mode), r in cuda.items():
        if mode != 'fp32': print(f"cuda {m} {mode} / fp32: {r/best[dev, m, shape, 'fp32']:.2f}x")
    if not cuda: print("GPU: not measured (no CUDA device here): fp32 vs bf16 + channels-last + torch.compile rows need one.")
    print(f"load average now {os.getloadavg()[0]:.1f}; total {time.perf_counter() - t0:.0f} s")


if __name__ == '__main__': main()
