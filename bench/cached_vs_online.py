#!/usr/bin/env python
"""JMT fusion training with cached features vs with online frozen backbones, side by side in one run.

Both ways train the same JMT (official-release preset) with the same SGD step (forward, masked 1 - CCC, backward, SGD
Nesterov) on the same synthetic Aff-Wild2 sequences (B=2, T=16 clips of 8 frames, 112x112 crops):

* cached: what jmt does. Each step reads two sequences of 512-d float16 features from `.npy` cache files (memory-mapped,
  through `AffWild2Features` and a DataLoader) and runs the fusion step. The one-time extraction that fills the cache is
  measured by `feature_extraction.py` and amortised in `end_to_end.py`; the cache values here are random (training speed
  does not depend on them).
* online: what the official release does. Every step decodes the 16 clips x 8 JPEG crops of each sequence and their
  log-mels (`AffWild2Clips`), runs R(2+1)D-18 and the audio ResNet-18 under `no_grad`, then the same fusion step.

On CPU, times are CPU-seconds of this process (`time.process_time`, 1 thread by default: per core), which do not count
time spent waiting for a core on a loaded machine; on CUDA, wall clock with synchronisation.
Prints sequences/s both ways, a per-sequence breakdown of the online step, and the ratio (target >= 100x on CPU).

    python bench/cached_vs_online.py                    # < 2 min on CPU (1 thread): 1 online step, >= 5 s of cached steps
    python bench/cached_vs_online.py --online-steps 2 --device cuda
"""
from __future__ import annotations
import argparse, os, tempfile, time, warnings
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # shared machine: idle OpenMP threads must not spin (set before torch)
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from jmt.features.backbones import make_backbone
from jmt.learn.metrics import ccc_loss
from jmt.core import set_seed
from jmt.data.affwild2.clips import AffWild2Clips, AffWild2Features, clip_ends
from jmt.data.affwild2.prepare import prepare_affwild2
from jmt.data.affwild2.synthetic import write_synthetic_affwild2
from jmt.models.registry import make_model

MODS = ('visual', 'audio')


def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()


def make_step(model, dev):
    "One training step on a batch `(x, mask, label, label_mask)`: forward, masked 1 - CCC, backward, SGD."
    opt = torch.optim.SGD(model.parameters(), lr=5e-4, momentum=.9, nesterov=True, weight_decay=1e-4)
    def step(x, mask, y, ym):
        opt.zero_grad(set_to_none=True)
        loss = ccc_loss(model(x, mask), y, ym)
        loss.backward(); opt.step()
        return loss.detach()
    return step


def to(b, dev):
    "The model inputs of a collated `AffWild2Features` batch, on `dev`."
    return ({m: b['x'][m].to(dev) for m in MODS}, {m: b['mask'][m].to(dev) for m in MODS}, b['label'].to(dev),
            b['label_mask'].to(dev))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
    ap.add_argument('--online-steps', type=int, default=1, help='online training steps to time (each B sequences)')
    ap.add_argument('--cached-seconds', type=float, default=5., help='time spent in cached epochs (at least one epoch)')
    ap.add_argument('--B', type=int, default=2, help='sequences per step')
    ap.add_argument('--T', type=int, default=16, help='clips per sequence')
    ap.add_argument('--img-size', type=int, default=112, help='side of the face crops fed to R(2+1)D-18')
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (1: per-core figures, robust on a shared machine)')
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    dev = torch.device(a.device); set_seed(0); t_all = time.perf_counter()
    clock = time.process_time if dev.type == 'cpu' else time.perf_counter  # CPU: CPU-seconds, not waits for a core
    warnings.filterwarnings('ignore', message='.*random.*')  # random-init backbones: speed does not depend on weights
    warnings.filterwarnings('ignore', message='.*not writable.*')  # memory-mapped cache rows are copied, never written
    print(f"device {dev}, torch {torch.__version__}, {torch.get_num_threads()} CPU threads, B={a.B}, T={a.T}, "
          f"clips of 8 frames at {a.img_size}x{a.img_size}, load average {os.getloadavg()[0]:.1f} (nproc {os.cpu_count()})")
    with tempfile.TemporaryDirectory() as d:
        d = Path(d); stride = 8
        write_synthetic_affwild2(d/'raw', n_videos=3, n_frames=a.T*stride*2 + 40, n_val=0, n_test=0)
        idx = prepare_affwild2(d/'raw', d/'prep', progress=False)
        names = [n for n, v in sorted(idx['videos'].items()) if v['split'] == 'train' and v['n_frames'] >= a.T*stride]
        # the feature cache: one float16 .npy per person and modality, memory-mapped like load_features does
        rng = np.random.default_rng(0); feats = {m: {} for m in MODS}
        for m in MODS:
            (d/'cache'/m).mkdir(parents=True)
            for n in names:
                np.save(d/'cache'/m/f'{n}.npy', rng.standard_normal((len(clip_ends(idx['videos'][n]['n_frames'], stride)), 512)).astype(np.float16))
                feats[m][n] = np.load(d/'cache'/m/f'{n}.npy', mmap_mode='r')
        seqs = AffWild2Features(d/'prep', feats, names, seq_len=a.T, clip_stride=stride)
        clips = AffWild2Clips(d/'prep', names, clip_stride=stride, img_size=a.img_size)
        pos = {k: i for i, k in enumerate(clips.items)}
        n_seq = len(seqs)

        # cached: whole epochs over all sequences, until --cached-seconds have passed
        set_seed(0); model = make_model('jmt').to(dev); step = make_step(model, dev)
        dl = DataLoader(seqs, batch_size=a.B, shuffle=True, drop_last=True)
        for b in dl: step(*to(b, dev)); break  # warm-up
        sync(dev); t = clock(); done = 0
        while True:
            for b in dl: step(*to(b, dev)); done += len(b['video'])
            sync(dev)
            if clock() - t >= a.cached_seconds: break
        t_cached = clock() - t; r_cached = done / t_cached

        # online: the release's loop. Every step decodes the clips and runs both frozen backbones, then the same step.
        vis, aud = (make_backbone(m, 'random').eval().to(dev) for m in MODS)
        for p in [*vis.parameters(), *aud.parameters()]: p.requires_grad_(False)
        set_seed(0); model = make_model('jmt').to(dev); step = make_step(model, dev)
        tm = dict(load=0., visual=0., audio=0., step=0.)
        def online_batch(items):
            xs = {m: [] for m in MODS}
            for i in items:
                s = seqs[i]; L = int(s['valid'].sum())
                t0 = clock()
                its = [clips[pos[(s['video'], s['start'] + k)]] for k in range(L)]
                fr = torch.stack([it['frames'] for it in its]).to(dev); mel = torch.stack([it['mel'] for it in its]).to(dev)
                t1 = clock(); tm['load'] += t1 - t0
                with torch.no_grad():
                    fv = vis(fr); sync(dev); t2 = clock(); tm['visual'] += t2 - t1
                    fa = aud(mel); sync(dev); tm['audio'] += clock() - t2
                for m, f in zip(MODS, (fv, fa)): xs[m].append(torch.nn.functional.pad(f, (0, 0, 0, a.T - L)))
            b = torch.utils.data.default_collate([{k: seqs[i][k] for k in ('mask', 'label', 'label_mask')} for i in items])
            return {m: torch.stack(xs[m]) for m in MODS}, {m: b['mask'][m].to(dev) for m in MODS}, b['label'].to(dev), b['label_mask'].to(dev)
        order = np.random.default_rng(0).permutation(n_seq)
        sync(dev); t = clock(); n_on = 0
        for k in range(a.online_steps):
            items = [int(order[(k*a.B + j) % n_seq]) for j in range(a.B)]
            x, mk, y, ym = online_batch(items)
            t0 = clock(); step(x, mk, y, ym); sync(dev); tm['step'] += clock() - t0
            n_on += a.B
        t_online = clock() - t; r_online = n_on / t_online

    print(f"\n{'path':8s} {'sequences':>9s} {('CPU-s' if dev.type == 'cpu' else 'seconds'):>8s} {'sequences/s':>12s} {'ms/sequence':>12s}")
    print(f"{'cached':8s} {done:9d} {t_cached:8.2f} {r_cached:12.2f} {1000/r_cached:12.1f}")
    print(f"{'online':8s} {n_on:9d} {t_online:8.2f} {r_online:12.4f} {1000/r_online:12.1f}")
    print(f"\nonline step, per sequence of {a.T} clips: " + ', '.join(f"{k} {1000*v/n_on:.0f} ms" for k, v in tm.items())
          + f" (backbones: {100*(tm['visual']+tm['audio'])/t_online:.0f}% of the online time)")
    print(f"ratio cached / online: {r_cached/r_online:,.0f}x  (target >= 100x on CPU)")
    print(f"load average now {os.getloadavg()[0]:.1f}; total {time.perf_counter() - t_all:.0f} s wall")


if __name__ == '__main__': main()
