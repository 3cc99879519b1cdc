#!/usr/bin/env python
"""What per-frame features cost (issue 23): the paper preset extracts a clip at every frame (clip stride 1), 32x the
clips of one clip every 32 frames. Measures the frozen backbones' clip rates here (visual R(2+1)D-18 at 112 px, audio
ResNet-18), on CPU per CPU-second (1 thread: per core) or on CUDA in bf16 + channels-last (wall clock), and prints the
extraction time and the float16 cache size of Aff-Wild2 (`--frames`, about 2.9 M) at clip strides 1 and 32.

    python bench/perframe_cost.py              # ~1 min on CPU
    python bench/perframe_cost.py --frames 2900000 --batch 64   # on a GPU machine
"""
from __future__ import annotations
import os
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # shared machine: idle OpenMP threads must not spin (set before torch)
import argparse, sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from feature_extraction import clips_per_s  # the same timing as the throughput table
from jmt.features.backbones import make_backbone
from jmt.core import autocast_dtype, get_device


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--frames', type=float, default=2.9e6, help='frames of the dataset (Aff-Wild2 VA: about 2.9 M)')
    ap.add_argument('--batch', type=int, default=None, help='clips per forward (default: 4 visual / 32 audio on CPU, 64 on GPU)')
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads')
    ap.add_argument('--device', default='auto', help='auto, cpu or cuda')
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads); torch.manual_seed(0)
    dev = get_device(None if a.device == 'auto' else a.device); cuda = dev.type == 'cuda'
    adt = autocast_dtype(dev, 'auto')  # as extract_features: bf16 (else fp16) on CUDA, fp32 on CPU
    dim, rates = 512, {}
    for m, x in (('visual', lambda b: torch.randn(b, 3, 8, 112, 112)), ('audio', lambda b: torch.randn(b, 1, 64, 101))):
        b = a.batch or (64 if cuda else {'visual': 4, 'audio': 32}[m])
        net = make_backbone(m, 'random').eval().to(dev)
        rates[m] = clips_per_s(net, x(b).to(dev), reps=2 if not cuda else 10, dtype=adt, channels_last=cuda or m == 'visual')
    unit = 'clips per CPU-second, 1 thread' if not cuda else f'clips/s wall, {str(adt).split(".")[-1]} + channels-last'
    print(f"device {dev}, torch {torch.__version__}: visual 112 px {rates['visual']:.1f}, audio {rates['audio']:.1f} ({unit})")
    print(f"{'clip stride':>11} {'clips/modality':>15} {'visual h':>10} {'audio h':>9} {'cache GB (fp16, both)':>22}")
    for stride in (1, 32):
        n = a.frames / stride
        print(f"{stride:>11} {n:>15,.0f} {n / rates['visual'] / 3600:>10,.1f} {n / rates['audio'] / 3600:>9,.2f} "
              f"{2 * n * dim * 2 / 1e9:>22.2f}")
    h = 'core-hours' if not cuda else 'GPU-hours'
    print(f"(hours are {h} of the backbone alone; frames of the dataset: {a.frames:,.0f}; features {dim}-d float16)")


if __name__ == '__main__':
    main()
