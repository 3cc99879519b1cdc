#!/usr/bin/env python
"""Feature-extraction throughput of the frozen backbones (clips/s), measured side by side in one run.

CPU: visual R(2+1)D-18 at 112x112 and 64x64, audio ResNet-18 on 1x64x101 log-mels, bio 1-D CNN, fp32, a few batch sizes.
CPU rates are clips per CPU-second of this process (`time.process_time`; with the default 1 thread: per core), so they
do not count time spent waiting for a core on a loaded machine. CUDA (if available, wall clock with synchronisation):
fp32 vs bf16/fp16 autocast + channels-last, and torch.compile. Random weights (speed does not depend on them). Compare ratios within one run; machine noise on shared CPUs is +-20%.

Then the whole extraction path, as `data_scripts/extract_features.py` runs it, on a synthetic Aff-Wild2 written to a
temp folder: `AffWild2Clips` (JPEG crops -> uint8 clip -> normalised float clip) -> `DataLoader` (workers, pinned memory
on GPU) -> backbone -> float16 cache files. It prints clips/s of the loader alone and of the whole extraction (wall
clock), so you see whether the loader keeps up, and on a GPU the mean utilisation sampled while it ran (NVML).

    python bench/feature_extraction.py            # < 2 min on CPU (1 thread)
    python bench/feature_extraction.py --quick    # one batch size per row
    python bench/feature_extraction.py --pipeline-frames 3000 --workers 8   # on a GPU machine: a bigger pipeline run

Last, the memory of extraction per worker: the resident-memory growth of one DataLoader worker reading every audio clip
of a synthetic Aff-Wild2 (`--memory-frames`), with one audio memory map open at a time (AffWild2Clips now) against every
person's map kept open (before).
"""
from __future__ import annotations
import os
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # shared machine: idle OpenMP threads must not spin (set before torch)
import argparse, statistics, subprocess, tempfile, threading, time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from jmt.features.backbones import make_backbone
from jmt.core import autocast_dtype, get_device, set_seed
from jmt.data.affwild2.clips import AffWild2Clips
from jmt.data.affwild2.prepare import prepare_affwild2
from jmt.data.affwild2.synthetic import write_synthetic_affwild2
from jmt.features.stats import clip_settings
from jmt.features.cache import extract_features


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


class GpuUtil:
    "Sample the GPU's utilisation (%) every `every` s in a thread, through NVML (`torch.cuda.utilization`) or nvidia-smi."
    def __init__(self, every:float=.1): self.every, self.samples, self._stop = every, [], threading.Event()
    def _read(self):
        try: return float(torch.cuda.utilization())
        except Exception:
            out = subprocess.run(['nvidia-smi', '--query-gpu=utilization.gpu', '--format=csv,noheader,nounits', '-i', '0'],
                                 capture_output=True, text=True, timeout=5).stdout
            return float(out.split()[0])
    def _loop(self):
        while not self._stop.wait(self.every):
            try: self.samples.append(self._read())
            except Exception: return  # no NVML and no nvidia-smi: report n/a
    def __enter__(self): self._t = threading.Thread(target=self._loop, daemon=True); self._t.start(); return self
    def __exit__(self, *a): self._stop.set(); self._t.join()
    def mean(self) -> str: return f"{statistics.mean(self.samples):.0f}%" if self.samples else 'n/a'


def pipeline(device:torch.device, img_size:int, n_frames:int, workers:int, batch:int, precision:str) -> dict:
    "clips/s (wall) of the loader alone and of `extract_features` on a synthetic Aff-Wild2; GPU utilisation on CUDA."
    cuda = device.type == 'cuda'
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        write_synthetic_affwild2(d/'raw', n_videos=5, n_frames=n_frames, n_val=1, n_test=1, seed=0)
        prepare_affwild2(d/'raw', d/'prep', progress=False)
        ds = AffWild2Clips(d/'prep', clip_stride=1, img_size=img_size, modalities=('visual',))  # a clip ends at every frame
        dl = DataLoader(ds, batch, num_workers=workers, pin_memory=cuda)
        t = time.perf_counter()
        for it in dl:
            if cuda: it['frames'].to(device, non_blocking=True)
        if cuda: torch.cuda.synchronize()
        loader = len(ds) / (time.perf_counter() - t)
        bb = make_backbone('visual', 'random', img_size=img_size)
        kw = dict(batch_size=batch, device=device, num_workers=workers, precision=precision, progress=False)
        extract_features(torch.utils.data.Subset(ds, range(min(len(ds), 2*batch))), 'visual', d/'warm', bb, None, **kw)  # warm-up
        with GpuUtil() as util:
            t = time.perf_counter()
            extract_features(ds, 'visual', d/'cache', bb, clip_settings(ds), **kw)
            whole = len(ds) / (time.perf_counter() - t)
    return dict(clips=len(ds), loader=loader, whole=whole, util=util.mean() if cuda else '-')


class _RssClips(torch.utils.data.Dataset):
    "Audio clips of an `AffWild2Clips`, each item carrying the resident memory (bytes) of the process that loaded it."
    def __init__(self, ds, keep_all:bool): self.ds, self.keep_all, self.maps = ds, keep_all, {}
    def __len__(self): return len(self.ds)
    def __getitem__(self, i):
        it = self.ds[i]
        if self.keep_all:  # what AffWild2Clips did before: every person's audio map kept open in the worker
            a = self.ds._audio; self.maps[a[0]] = a[1]
        with open('/proc/self/statm') as f: rss = int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')
        return torch.tensor(rss)


def worker_memory(n_frames:int, workers:int=1) -> dict:
    "Resident memory growth (bytes) of a DataLoader worker over its last 90% of audio clips, one open map vs all maps kept."
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        write_synthetic_affwild2(d/'raw', n_videos=5, n_frames=n_frames, n_val=1, n_test=1, seed=0)
        prepare_affwild2(d/'raw', d/'prep', progress=False)
        audio = sum(p.stat().st_size for p in (d/'prep'/'audio').glob('*.npy'))
        out = dict(audio_bytes=audio, frames=5*n_frames)
        for keep_all in (True, False):
            ds = AffWild2Clips(d/'prep', clip_stride=4, modalities=('audio',))
            rss = torch.cat(list(DataLoader(_RssClips(ds, keep_all), 8, num_workers=workers)))
            out['all maps' if keep_all else 'one map'] = int(rss[len(rss)//10:].max() - rss[len(rss)//10])  # after a warm-up
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help='one batch size per row')
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (1: per-core figures, robust on a shared machine)')
    ap.add_argument('--pipeline-frames', type=int, default=None, help='mean frames per synthetic video of the pipeline run '
                    '(5 videos, 7 persons, a clip per frame; default: 40 on CPU, 2000 on GPU); 0 skips the pipeline run')
    ap.add_argument('--memory-frames', type=int, default=600, help='mean frames per synthetic video of the worker-memory run '
                    '(5 videos at 30 fps); 0 skips it')
    ap.add_argument('--workers', type=int, default=None, help='DataLoader workers of the pipeline run (default: as data_scripts/extract_features.py)')
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
    nf = a.pipeline_frames if a.pipeline_frames is not None else (2000 if torch.cuda.is_available() else 40)
    if nf:
        dev = get_device(None); cuda = dev.type == 'cuda'
        w = a.workers if a.workers is not None else (1 if not cuda else max(1, min(8, len(os.sched_getaffinity(0)) - 1)))
        size, b = (112, 64) if cuda else (32, 16)  # CPU: 32x32 crops keep the run short (R(2+1)D-18 at 112 is ~1 clip/s)
        r = pipeline(dev, size, nf, w, b, 'auto')
        print(f"\nwhole extraction path on {dev.type} (synthetic Aff-Wild2, {r['clips']} clips of 8x{size}x{size}, {w} worker(s), "
              f"batch {b}, wall clock): loader alone {r['loader']:,.1f} clips/s, whole extraction {r['whole']:,.1f} clips/s, "
              f"GPU utilisation {r['util']}; the loader is {r['loader']/r['whole']:.1f}x as fast as the whole path"
              + ('' if cuda else ' (CPU: the backbone sets the pace)'))
    if a.memory_frames and os.path.exists('/proc/self/statm'):
        r = worker_memory(a.memory_frames)
        print(f"\nmemory of extraction per worker (audio clips of a synthetic Aff-Wild2, {r['frames']:,} frames, "
              f"{r['audio_bytes']/1e6:.1f} MB of int16 prepared audio): resident growth of one DataLoader worker over its last 90% "
              f"of the clips: {r['one map']/1e6:.1f} MB with one audio map open (now), {r['all maps']/1e6:.1f} MB with every "
              f"person's map kept (before); the latter grows with the dataset, the former with the longest video")
    print(f"load average now {os.getloadavg()[0]:.1f}; total {time.perf_counter() - t0:.0f} s")


if __name__ == '__main__': main()
