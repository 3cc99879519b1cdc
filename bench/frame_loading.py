#!/usr/bin/env python
"""Frames/s per core of jmt's clip loader (`load_crops`) versus a plain PIL loop, side by side in one run, on the same
JPEG crops, 8 frames per call, decoded to a uint8 clip tensor.

Rows: the PIL loop (baseline: open + decode + convert + `np.asarray`, one frame at a time, plus a PIL resize when the
output size differs, then `np.stack` into the same uint8 clip tensor the others return), jmt's `load_crops` (a file read and one `cv2.imdecode` per crop straight to RGB, into one buffer, one uint8 resize
per clip), and for reference the previous jmt loader (file reads + one `torchvision.io.decode_jpeg` call on the list,
float resize per frame). Rounds are interleaved (A B C A B C ...) so that machine load hits every method alike; the best
round of each is reported. Rates are frames per CPU-second of this process (`time.process_time`, user + system, one
thread): that is frames/s per core, and it does not count the time the process waits for a core on a loaded machine;
`--clock wall` uses wall time instead.

    python bench/frame_loading.py            # target: >= 3,000 frames/s per core and >= 2x PIL
    python bench/frame_loading.py --crops /data/affwild2/cropped_aligned/video59   # on real crops
"""
import os
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # shared machine: idle OpenMP threads must not spin (set before torch)
import tempfile, time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from fastcore.script import call_parse
from PIL import Image
from torchvision.io import decode_jpeg, read_file, ImageReadMode

from jmt.data.affwild2.clips import load_crops
from jmt.data.affwild2.synthetic import draw_face


def pil_loop(paths, size):
    "The baseline: PIL open + decode + to array, one frame at a time (resized with PIL when `size` differs), stacked into a clip."
    out = []
    for p in paths:
        im = Image.open(p).convert('RGB')
        if im.size != (size, size): im = im.resize((size, size), Image.BILINEAR)
        out.append(np.asarray(im))
    return torch.from_numpy(np.stack(out)).permute(0, 3, 1, 2)  # the same output as the others: a uint8 clip tensor


def decode_jpeg_loader(paths, size):
    "The previous jmt loader: read the files, decode the list in one `decode_jpeg` call, stack (float resize per frame)."
    imgs = decode_jpeg([read_file(str(p)) for p in paths], mode=ImageReadMode.RGB)
    if imgs[0].shape[-2:] != (size, size):
        imgs = [F.interpolate(im[None].float(), size=(size, size), mode='bilinear', antialias=True,
                              align_corners=False)[0].round().clamp(0, 255).byte() for im in imgs]
    return torch.stack(imgs)


def decode_only(datas):
    "The floor of any loader on libjpeg-turbo: decode bytes already in memory to RGB arrays (no file reads, no stacking)."
    return [cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_COLOR_RGB) for b in datas]


def interleaved_rates(fns, clips, rounds, clock=time.process_time):
    "Best frames/s of each function over `rounds` interleaved passes over all clips, timed with `clock`."
    n = sum(len(c) for c in clips); best = {k: 0. for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            t = clock()
            for c in clips: fn(c)
            best[k] = max(best[k], n / (clock() - t))
    return best


@call_parse
def main(crops:str=None, # a folder of .jpg crops to read (default: synthetic 112x112 faces written to a temp folder)
         n_frames:int=800, # synthetic crops to write when --crops is not given
         clip_len:int=8, # frames per clip (one loader call)
         rounds:int=9, # interleaved passes per method; the best is reported
         sizes:str='112,64', # output sides to measure (112: the paper's; 64: the synthetic demo's)
         threads:int=1, # torch / OpenCV threads (1 = per core)
         clock:str='cpu', # 'cpu': frames per CPU-second of this process (per core); 'wall': wall-clock frames/s
        ):
    "Print frames/s of the clip loader and of a PIL loop, and their ratio."
    torch.set_num_threads(threads); cv2.setNumThreads(threads)
    with tempfile.TemporaryDirectory() as d:
        if crops is None:
            rng = np.random.default_rng(0)
            for i in range(n_frames):
                Image.fromarray(draw_face(np.sin(i/20), np.cos(i/30), rng)).save(Path(d)/f'{i+1:05d}.jpg', quality=90)
            crops = d
        paths = sorted(Path(crops).glob('*.jpg'))
        clips = [paths[i:i+clip_len] for i in range(0, len(paths) - clip_len + 1, clip_len)]
        src = Image.open(paths[0]).size[0]
        print(f'{len(paths)} crops of {src}x{src} (JPEG), clips of {clip_len}, {threads} thread(s), '
              f'load average {os.getloadavg()[0]:.1f} (nproc {os.cpu_count()})')
        print(f"{'output':>7s} {'PIL loop':>10s} {'jmt load_crops':>15s} {'previous (decode_jpeg)':>23s} {'jmt/PIL':>8s} {'jmt/previous':>13s}")
        res, blobs = {}, {p: p.read_bytes() for p in paths}
        sizes = [int(x) for x in sizes.split(',')]
        if src not in sizes: sizes.append(src)
        for s in sizes:
            fns = {'pil': lambda c: pil_loop(c, s), 'jmt': lambda c: load_crops(c, s), 'prev': lambda c: decode_jpeg_loader(c, s)}
            if s == src: fns['floor'] = lambda c: decode_only([blobs[p] for p in c])
            r = interleaved_rates(fns, clips, rounds,
                                  time.process_time if clock == 'cpu' else time.perf_counter)
            res[s] = r
            print(f"{s:>7d} {r['pil']:>10,.0f} {r['jmt']:>15,.0f} {r['prev']:>23,.0f} {r['jmt']/r['pil']:>7.2f}x {r['jmt']/r['prev']:>12.2f}x")
    floor, src_pil = res[src]['floor'], res[src]['pil']
    print(f"decode alone at {src}x{src} (cv2.imdecode = libjpeg-turbo, bytes already in memory, no file reads): {floor:,.0f} frames/s, "
          f"{floor/src_pil:.2f}x the PIL loop: the most any loader built on this decoder can reach here")
    print(f"frames/s per core ({'per CPU-second' if clock == 'cpu' else 'wall clock'}, best of {rounds} interleaved rounds); target >= 3,000 frames/s and >= 2x the PIL loop")
    print(f'load average now {os.getloadavg()[0]:.1f}')
