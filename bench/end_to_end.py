#!/usr/bin/env python
"""End-to-end estimate: wall time of the whole Aff-Wild2 reproduction (prepare, extract, 5 folds x JMT and baselines),
with cached features (jmt) next to the online-backbone approach (the official release), from rates measured in this run.

Every stage is measured here, on one CPU core (1 torch thread), as CPU-seconds per unit (`time.process_time`, so the
figures do not count time spent waiting for a core on a loaded machine): preparing the synthetic raw videos, loading
8-frame 112x112 clips, R(2+1)D-18 and ResNet-18 forward passes, log-mels, one training step and one evaluation pass of
each fusion model (B=2, T=16), reading a cached sequence. The work counts come from the dataset size (the ABAW 6th
competition paper, Kollias et al., arXiv 2402.19344: about 3 M frames in 594 videos; the split sizes are *unconfirmed*
and are options). The estimate is work x measured cost.

On a machine with CUDA the backbones' forward passes (bf16 autocast, channels-last, large batches) and every fusion
model's step and evaluation (B=2) are measured again on the GPU (wall clock, synchronised), and a second table gives
the wall time on that one GPU machine: CPU stages (preparation, JPEG decoding, log-mels) spread over its cores, GPU
stages at the measured GPU rates, a stage fed by the CPU taking the longer of the two. Without CUDA,
`--gpu-visual-rate` prints instead, labelled as an ASSUMPTION, the extraction time at an assumed GPU rate (default: the
issue's target of 4,000 visual clips/s) and how many of this machine's cores the measured loader would need to feed it.

    python bench/end_to_end.py                  # < 2 min on CPU
    python bench/end_to_end.py --device cpu     # exercise the device table's code path on the CPU (small batches)
"""
from __future__ import annotations
import os
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # shared machine: idle OpenMP threads must not spin (set before torch)
import argparse, tempfile, time, warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from jmt.features.backbones import make_backbone
from jmt.learn.metrics import ccc_loss
from jmt.core import set_seed
from jmt.data.affwild2.clips import AffWild2Features, clip_ends, load_crops, normalize_clip
from jmt.data.decode import log_mel
from jmt.data.affwild2.prepare import prepare_affwild2
from jmt.data.affwild2.synthetic import draw_face, write_synthetic_affwild2
from jmt.models.registry import make_model

MODS = ('visual', 'audio')
MODELS = {'jmt': MODS, 'mt': MODS, 'vanilla': MODS, 'unimodal_visual': ('visual',), 'unimodal_audio': ('audio',)}


def best_cost(fn, n_units, reps=1, warmup=1, clock=time.process_time, sync=lambda: None):
    "Seconds of `clock` per unit of `fn()` (which does `n_units` units): best of `reps` after `warmup` calls, `sync`ed."
    for _ in range(warmup): fn()
    sync(); best = float('inf')
    for _ in range(reps):
        t = clock(); fn(); sync(); best = min(best, clock() - t)
    return best / n_units


def cpu_cost(fn, n_units, reps=1, warmup=1):
    "CPU-seconds per unit of `fn()` on this process's core: best of `reps` after `warmup` calls."
    return best_cost(fn, n_units, reps, warmup)


def hms(s):
    "Seconds as a short human duration."
    return f'{s:,.0f} s' if s < 120 else f'{s/60:,.1f} min' if s < 7200 else f'{s/3600:,.1f} h' if s < 172800 else f'{s/86400:,.1f} d'


def measure(img_size=112, B=2, T=16):
    "Per-unit CPU costs (seconds, one core) of every stage."
    c = {}
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        write_synthetic_affwild2(d/'raw', n_videos=3, n_frames=200, n_val=0, n_test=0)
        t = time.process_time(); idx = prepare_affwild2(d/'raw', d/'prep', progress=False)
        secs = sum(v['n_frames'] / v['fps'] for n, v in idx['videos'].items() if not n.endswith('_right'))  # one raw video per pair
        c['prepare'] = (time.process_time() - t) / secs  # per second of raw video
        rng = np.random.default_rng(0)
        for i in range(64): Image.fromarray(draw_face(np.sin(i/9), np.cos(i/7), rng)).save(d/f'{i+1:05d}.jpg', quality=90)
        paths = sorted(d.glob('*.jpg')); cl = [paths[i:i+8] for i in range(0, 64, 8)]
        c['load clip'] = cpu_cost(lambda: [load_crops(p, img_size) for p in cl], len(cl), reps=3)  # 8 JPEGs -> uint8
        fr = [load_crops(p, img_size) for p in cl]
        c['normalise clip'] = cpu_cost(lambda: [normalize_clip(*f) for f in fr], len(fr), reps=3)  # uint8 -> float (3,8,S,S)
        vis, aud = (make_backbone(m, 'random').eval() for m in MODS)
        x = torch.randn(2, 3, 8, img_size, img_size); mel = torch.randn(32, 1, 64, 104)
        with torch.inference_mode():
            c['visual fwd'] = cpu_cost(lambda: vis(x), len(x))
            c['audio fwd'] = cpu_cost(lambda: aud(mel), len(mel), reps=2)
        w = np.random.default_rng(0).standard_normal((16, 45599)).astype(np.float32)
        c['log-mel'] = cpu_cost(lambda: [log_mel(v) for v in w], len(w), reps=2)
        names = sorted(idx['videos']); ncl = {n: len(clip_ends(idx['videos'][n]['n_frames'], 8)) for n in names}
        feats = {m: {n: np.random.default_rng(0).standard_normal((k, 512)).astype(np.float16) for n, k in ncl.items()} for m in MODS}
        fd = AffWild2Features(d/'prep', feats, names, seq_len=T, clip_stride=8)
        c['read sequence'] = cpu_cost(lambda: [fd[i] for i in range(len(fd))], len(fd), reps=3)
    g = torch.Generator().manual_seed(0)
    xb = {m: torch.randn(B, T, 512, generator=g) for m in MODS}; y = torch.rand(B, T, 2, generator=g) * 2 - 1
    for name in MODELS:
        set_seed(0); m = make_model(name)
        opt = torch.optim.SGD(m.parameters(), lr=5e-4, momentum=.9, nesterov=True, weight_decay=1e-4)
        def step():
            opt.zero_grad(set_to_none=True); ccc_loss(m(xb), y).backward(); opt.step()
        c[f'{name} step'] = cpu_cost(step, B, reps=5, warmup=2)
        m.eval()
        with torch.inference_mode(): c[f'{name} eval'] = cpu_cost(lambda: m(xb), B, reps=5, warmup=2)
        m.train()
    return c


def device_cost(fn, n_units, dev, reps=3, warmup=2):
    "Wall seconds per unit of `fn()` on `dev` (synchronised): best of `reps` after `warmup` calls."
    return best_cost(fn, n_units, reps, warmup, time.perf_counter, torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None))


def measure_device(dev, img_size=112, B=2, T=16, vis_batch=64, aud_batch=256):
    "Per-unit wall costs on `dev`: backbone forwards (autocast + channels-last) and every fusion model's step and eval."
    from jmt.core import autocast_dtype
    adt = autocast_dtype(dev); g = {}
    ac = lambda: torch.autocast(dev.type, dtype=adt or torch.float32, enabled=adt is not None)
    vis, aud = (make_backbone(m, 'random').eval().to(dev) for m in MODS)
    vis = vis.to(memory_format=torch.channels_last_3d); aud = aud.to(memory_format=torch.channels_last)
    x = torch.randn(vis_batch, 3, 8, img_size, img_size, device=dev).contiguous(memory_format=torch.channels_last_3d)
    mel = torch.randn(aud_batch, 1, 64, 104, device=dev).contiguous(memory_format=torch.channels_last)
    with torch.inference_mode(), ac():
        g['visual fwd'] = device_cost(lambda: vis(x), len(x), dev)
        g['audio fwd'] = device_cost(lambda: aud(mel), len(mel), dev)
    del vis, aud, x, mel
    gen = torch.Generator().manual_seed(0)
    xb = {m: torch.randn(B, T, 512, generator=gen).to(dev) for m in MODS}; y = (torch.rand(B, T, 2, generator=gen) * 2 - 1).to(dev)
    for name in MODELS:
        set_seed(0); m = make_model(name).to(dev)
        opt = torch.optim.SGD(m.parameters(), lr=5e-4, momentum=.9, nesterov=True, weight_decay=1e-4)
        def step():
            opt.zero_grad(set_to_none=True)
            with ac(): loss = ccc_loss(m(xb).float(), y)
            loss.backward(); opt.step()
        g[f'{name} step'] = device_cost(step, B, dev, reps=5, warmup=3)
        m.eval()
        with torch.inference_mode(), ac(): g[f'{name} eval'] = device_cost(lambda: m(xb), B, dev, reps=5, warmup=3)
    return g, adt


def machine_table(c, g, a, clips, tr, va, runs, cores):
    "Rows (stage, work, cached s, online s) of the reproduction on one machine with a GPU (`g`) and `cores` CPU cores."
    w = max(1, cores - 1)  # DataLoader workers decoding on the CPU while the GPU computes
    feed = {'visual': (c['load clip'] + c['normalise clip']) / w, 'audio': c['log-mel'] / w}
    per_clip = {m: max(g[f'{m} fwd'], feed[m]) for m in MODS}  # a stage fed by the CPU runs at the slower of the two
    rows = [('prepare (audio, labels, index)', f'{a.frames/a.fps:,.0f} video-s', c['prepare'] * a.frames / a.fps / cores,
             c['prepare'] * a.frames / a.fps / cores)]
    rows += [(f'extract {m} features (once)', f'{clips:,.0f} clips', clips * per_clip[m], 0.) for m in MODS]
    for name, mods in MODELS.items():
        cached = runs * (tr * (g[f'{name} step'] + c['read sequence']) + va * (g[f'{name} eval'] + c['read sequence']))
        backbone = a.T * sum(per_clip[m] for m in mods)
        online = runs * (tr * (g[f'{name} step'] + backbone) + va * (g[f'{name} eval'] + backbone))
        rows.append((f'train+validate {name}', f'{a.folds}x{a.epochs}x{tr+va:,.0f} seq', cached, online))
    return rows, per_clip


def print_rows(rows, total_label):
    "The stage table: work, cached and online time, and their ratio."
    print(f"\n{'stage':34s} {'work':>22s} {'cached (jmt)':>14s} {'online (release)':>17s} {'online/cached':>14s}")
    for s, wk, x, y in rows:
        print(f"{s:34s} {wk:>22s} {hms(x):>14s} {hms(y) if y else '-':>17s} {f'{y/x:,.0f}x' if y else '-':>14s}")
    tot_c, tot_o = sum(r[2] for r in rows), sum(r[3] for r in rows)
    print(f"{total_label:34s} {'':>22s} {hms(tot_c):>14s} {hms(tot_o):>17s} {f'{tot_o/tot_c:,.0f}x':>14s}")
    return tot_c, tot_o


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--frames', type=float, default=3e6, help='labelled frames of Aff-Wild2 VA (about 3 M, arXiv 2402.19344)')
    ap.add_argument('--fps', type=float, default=30., help='mean frame rate of the raw videos (for the prepare stage)')
    ap.add_argument('--trainval', type=float, default=(356 + 76) / 594, help='share of frames in train+val (the 5 CV folds; unconfirmed)')
    ap.add_argument('--clip-stride', type=int, default=32, help='a clip every this many frames (the lineage: 32)')
    ap.add_argument('--T', type=int, default=16, help='clips per sequence')
    ap.add_argument('--folds', type=int, default=5)
    ap.add_argument('--epochs', type=int, default=5, help='epochs per fold (the paper: at most 5)')
    ap.add_argument('--gpu-visual-rate', type=float, default=4000., help='ASSUMED GPU visual clips/s (issue target; not measured)')
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else None,
                    help="measure the backbones and fusion steps on this device too (default: cuda when available); 'cpu' "
                         "runs that code path with small batches")
    a = ap.parse_args(argv)
    torch.set_num_threads(1); set_seed(0)
    warnings.filterwarnings('ignore', message='.*random.*'); warnings.filterwarnings('ignore', message='.*not writable.*')
    t0 = time.perf_counter()
    print(f"torch {torch.__version__}, 1 thread, load average {os.getloadavg()[0]:.1f} (nproc {os.cpu_count()}); measuring ...", flush=True)
    c = measure(T=a.T)
    print('\nmeasured CPU cost per unit (one core):')
    for k, v in c.items(): print(f'  {k:24s} {v*1000:10.2f} ms')

    clips = a.frames / a.clip_stride; seqs = clips / a.T; cv = seqs * a.trainval
    tr, va = cv * (a.folds - 1) / a.folds, cv / a.folds  # sequences per fold
    runs = a.folds * a.epochs
    per_clip = {'visual': c['load clip'] + c['normalise clip'] + c['visual fwd'], 'audio': c['log-mel'] + c['audio fwd']}
    rows = [('prepare (audio, labels, index)', f'{a.frames/a.fps:,.0f} video-s', c['prepare'] * a.frames / a.fps, c['prepare'] * a.frames / a.fps)]
    ext = {m: clips * per_clip[m] for m in MODS}
    rows += [(f'extract {m} features (once)', f'{clips:,.0f} clips', ext[m], 0.) for m in MODS]
    for name, mods in MODELS.items():
        cached = runs * (tr * (c[f'{name} step'] + c['read sequence']) + va * (c[f'{name} eval'] + c['read sequence']))
        backbone = a.T * sum(per_clip[m] for m in mods)  # the release re-runs the frozen backbones on every sequence
        online = runs * (tr * (c[f'{name} step'] + backbone) + va * (c[f'{name} eval'] + backbone))
        rows.append((f'train+validate {name}', f'{a.folds}x{a.epochs}x{tr+va:,.0f} seq', cached, online))
    print(f"\nAff-Wild2 VA: {a.frames:,.0f} frames, a clip every {a.clip_stride} frames -> {clips:,.0f} clips, {seqs:,.0f} "
          f"sequences of {a.T}; {a.folds} folds x {a.epochs} epochs over train+val ({cv:,.0f} sequences), B=2")
    tot_c, tot_o = print_rows(rows, 'total, one CPU core')
    print(f"ratio online / cached (whole reproduction, CPU): {tot_o/tot_c:,.0f}x")
    if a.device is not None:
        dev = torch.device(a.device); cores = len(os.sched_getaffinity(0))
        small = dict(vis_batch=2, aud_batch=16) if dev.type == 'cpu' else {}
        g, adt = measure_device(dev, T=a.T, **small)
        name = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'CPU (code-path check, small batches)'
        print(f"\nmeasured on {name} ({str(adt or torch.float32)[6:]} autocast, wall clock, per unit):")
        for k, v in g.items(): print(f'  {k:24s} {v*1000:10.3f} ms')
        rows_g, per_clip = machine_table(c, g, a, clips, tr, va, runs, cores)
        print(f"\none machine: {name} + {cores} CPU cores ({max(1, cores-1)} DataLoader worker(s); the CPU-side rates "
              f"measured above, one core each)")
        tot_c, tot_o = print_rows(rows_g, 'total, one machine')
        print(f"ratio online / cached (whole reproduction, this machine): {tot_o/tot_c:,.0f}x; visual extraction "
              f"{1/per_clip['visual']:,.0f} clips/s ({'backbone' if per_clip['visual'] == g['visual fwd'] else 'CPU decoding'}-bound)")
        print(f"load average now {os.getloadavg()[0]:.1f}; total {time.perf_counter() - t0:.0f} s")
        return
    print(f"\nGPU: not measured (no CUDA device in this run: {torch.cuda.is_available()=}).")
    r = a.gpu_visual_rate
    print(f"ASSUMPTION, not a measurement: at {r:,.0f} visual clips/s on one GPU, visual extraction of {clips:,.0f} clips takes "
          f"{hms(clips / r)}; feeding it needs {8*r:,.0f} frames/s, i.e. {r*c['load clip']:,.1f} of these CPU cores "
          f"at the measured {8/c['load clip']:,.0f} frames/s per core of load_crops if the uint8 clips are normalised on the GPU, "
          f"{r*(c['load clip']+c['normalise clip']):,.1f} cores if they are normalised on the CPU as AffWild2Clips does now.")
    print(f"load average now {os.getloadavg()[0]:.1f}; total {time.perf_counter() - t0:.0f} s")


if __name__ == '__main__': main()
