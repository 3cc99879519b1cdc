#!/usr/bin/env python
"""Frames/s per core of jmt's clip loader (`load_crops`: file reads + one batched `torchvision.io.decode_jpeg`)
versus a plain PIL loop, measured side by side in one run on the same 112x112 JPEG crops.

    python bench/frame_loading.py            # target: >= 3,000 frames/s per core and >= 2x PIL
    python bench/frame_loading.py --crops /data/affwild2/cropped_aligned/video59   # on real crops
"""
import tempfile, time
from pathlib import Path

import numpy as np
import torch
from fastcore.script import call_parse
from PIL import Image

from jmt.data.clips import load_crops
from jmt.data.synthetic import draw_face


def pil_loop(paths):
    "The baseline: PIL open + decode + to array, one frame at a time."
    return [np.asarray(Image.open(p).convert('RGB')) for p in paths]


def best_rate(fn, clips, repeats):
    "Best frames/s over `repeats` passes of `fn` over all clips (best-of reduces machine noise)."
    n = sum(len(c) for c in clips); best = 0.
    for _ in range(repeats):
        t = time.perf_counter()
        for c in clips: fn(c)
        best = max(best, n / (time.perf_counter() - t))
    return best


@call_parse
def main(crops:str=None, # a folder of .jpg crops to read (default: synthetic 112x112 faces written to a temp folder)
         n_frames:int=800, # synthetic crops to write when --crops is not given
         clip_len:int=8, # frames per clip (one loader call)
         repeats:int=5, # passes per method; the best is reported
         threads:int=1, # torch threads (1 = per core)
        ):
    "Print frames/s of the clip loader and of a PIL loop, and their ratio."
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as d:
        if crops is None:
            rng = np.random.default_rng(0)
            for i in range(n_frames):
                Image.fromarray(draw_face(np.sin(i/20), np.cos(i/30), rng)).save(Path(d)/f'{i+1:05d}.jpg', quality=90)
            crops = d
        paths = sorted(Path(crops).glob('*.jpg'))
        clips = [paths[i:i+clip_len] for i in range(0, len(paths) - clip_len + 1, clip_len)]
        size = Image.open(paths[0]).size[0]
        ours = best_rate(lambda c: load_crops(c, size), clips, repeats)
        pil = best_rate(pil_loop, clips, repeats)
    print(f'{len(paths)} crops of {size}x{size}, clips of {clip_len}, torch threads {threads}')
    print(f'jmt load_crops (decode_jpeg on a list): {ours:8,.0f} frames/s')
    print(f'PIL loop                              : {pil:8,.0f} frames/s')
    print(f'ratio jmt / PIL: {ours/pil:.2f}x  (target >= 2x and >= 3,000 frames/s per core)')
