#!/usr/bin/env python
"""Real-time factor of `jmt-predict` (`jmt.predict.bundle`): processing seconds per second of video, per stage, for a 30 fps
640×480 video with audio made from a real face photograph under a moving camera (`write_face_video`).

The run is built here (nothing trained: timing does not depend on the weights): a JMT (release preset, T=16) on
seeded random R(2+1)D-18 and ResNet-18 backbones, with the training defaults for real data — 112-px crops, 8-frame
clips from a 32-frame window, one clip every `--clip-stride` frames (default 32, the training default).

Stages: decode, detect, crop (track + crop) and audio (window + log-mel) are timed in one streaming pass
(`bench/video_frontend.py`'s `staged`); backbones and fusion inside `predict_video` (its `timings`); writing is the
CSV + PNG (the overlay, a second decode + H.264 encode, is reported on its own line with `--overlay`). The last line is
the whole `predict_video` + outputs, wall time, which is what a user waits for. An RTF below 1 is faster than real time.

    python bench/predict.py                 # 10 s of video
    python bench/predict.py --seconds 60    # the 1-minute case of issue 13
    python bench/predict.py --device cuda   # on a GPU
"""
import os
os.environ.setdefault('OMP_NUM_THREADS', '1'); os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
import sys, tempfile, time, warnings
from pathlib import Path

import numpy as np
import torch
from fastcore.script import call_parse

sys.path.insert(0, str(Path(__file__).parent))
from video_frontend import staged  # the front end's per-stage pass

from jmt.features.backbones import make_backbone
from jmt.core import get_device
from jmt.data.decode import AUDIO_SETTINGS
from jmt.data.faces import FaceDetector
from jmt.data.video import write_face_video
from jmt.models.registry import make_model
from jmt.predict.bundle import load_run, write_predict_bundle
from jmt.predict.outputs import plot_prediction, write_csv, write_overlay
from jmt.predict.video import predict_video


def bench_run(d:Path, clip_stride:int=32, seq_len:int=16) -> Path:
    "A run folder with an untrained JMT and seeded random backbones at the real-data clip settings."
    torch.manual_seed(0); net = make_model('jmt', T=seq_len)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        bbs = {'visual': make_backbone('visual', 'random', seed=0), 'audio': make_backbone('audio', 'random', seed=0)}
    write_predict_bundle(d, model_name='jmt', model_kwargs=dict(preset='release', T=seq_len), model=net, backbones=bbs,
                         clip=dict(clip_stride=clip_stride, clip_len=8, window=32, img_size=112, audio=AUDIO_SETTINGS), seq_len=seq_len)
    return d


@call_parse
def main(seconds:float=10., # video length
         fps:int=30, # frame rate
         width:int=640, # frame width
         height:int=480, # frame height
         clip_stride:int=32, # frames between clip ends (the training default for real data)
         device:str='auto', # auto, cpu, cuda
         threads:int=None, # torch CPU threads (default: every core this process may use)
         overlay:bool=False, # also time the overlay video
        ):
    "Print the real-time factor of each prediction stage."
    warnings.simplefilter('ignore')
    torch.set_num_threads(threads or len(os.sched_getaffinity(0)))
    clk = time.perf_counter
    with tempfile.TemporaryDirectory() as d:
        d = Path(d); n = int(round(seconds * fps)); t0 = clk()
        v = write_face_video(d / 'bench.mp4', n_frames=n, fps=fps, size=(width, height))
        dur = n / fps; run = load_run(bench_run(d / 'run', clip_stride), device=None if device == 'auto' else device)
        dev = get_device(None if device == 'auto' else device)
        det = FaceDetector('auto')
        print(f'{n} frames, {width}x{height} @ {fps} fps with audio ({dur:.1f} s of video, written in {clk() - t0:.1f} s); '
              f'device {dev}{f" ({torch.cuda.get_device_name(dev)})" if dev.type == "cuda" else ""}, torch threads {torch.get_num_threads()}, '
              f'detector {det.kind}, clip stride {clip_stride}, load average {os.getloadavg()[0]:.1f} (nproc {os.cpu_count()})')
        st, faces = staged(v['path'], det, 2, clk, clip_stride)
        t1 = clk(); res = predict_video(v['path'], run, progress=False); t_pred = clk() - t1
        t2 = clk(); write_csv(res, d / 'bench.csv'); plot_prediction(res, d / 'bench.png'); t_write = clk() - t2
        rows = [*st.items(), ('backbones', res['timings']['backbones']), ('fusion', res['timings']['fusion']), ('writing (CSV + PNG)', t_write)]
        if overlay:
            t3 = clk(); write_overlay(v['path'], res, d / 'bench.overlay.mp4'); rows.append(('overlay video', clk() - t3))
        print(f"{'stage':<30}{'seconds':>10}{'RTF':>10}   (processing seconds per video second)")
        for k, t in rows: print(f'{k:<30}{t:>10.2f}{t / dur:>10.3f}')
        print(f"{'sum of stages':<30}{sum(t for _, t in rows):>10.2f}{sum(t for _, t in rows) / dur:>10.3f}")
        for label, tot in [('predict_video + CSV + PNG', t_pred + t_write)] + ([('... + overlay video', t_pred + t_write + rows[-1][1])] if overlay else []):
            print(f"{label:<30}{tot:>10.2f}{tot / dur:>10.3f}   ({'faster' if tot < dur else 'slower'} than real time: {dur / tot:.2f}x)")
        print(f"({len(res['clip_ends'])} clips; a face in {faces / n:.0%} of frames; wall-clock seconds on a machine with load average {os.getloadavg()[0]:.1f})")
