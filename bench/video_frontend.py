#!/usr/bin/env python
"""Real-time factor of the video front end (`jmt.data.video`): processing seconds per second of video, per stage, for a
30 fps 640×480 video with audio made from a real face photograph under a moving camera (`write_face_video`).

Stages, timed inside one streaming pass per detector: decode (`video_frames`: demux, decode, RGB, rotation), detect
(`FaceDetector` on every `detect_every`-th frame, on a copy downscaled to `detect_side`), track + crop (`FaceTracker`,
`crop_face`), audio (`AudioWindows` + `log_mel` once per clip). Then the whole `video_clips` pass (all of the above plus
clip assembly and normalisation), which is what a predictor pays before the backbones. Times are CPU seconds of this
process (`time.process_time`, one thread: per-core figures that leave out waiting for a core on a loaded machine);
`--clock wall` uses wall time. An RTF below 1 is faster than real time.

    python bench/video_frontend.py                 # 5 s of video
    python bench/video_frontend.py --seconds 60    # the 1-minute case of issue 13
"""
import os
os.environ.setdefault('OMP_NUM_THREADS', '1'); os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
import tempfile, time, warnings
from pathlib import Path

import torch
from fastcore.script import call_parse

from jmt.data.decode import AUDIO_SETTINGS, log_mel
from jmt.data.video import AudioWindows, clip_end_sample, probe_video, video_frames, write_face_video
from jmt.data.faces import FaceDetector, FaceTracker, crop_face, video_clips, _yuface


def staged(path, det, detect_every, clock, stride=32):
    "One streaming pass with a timer around each stage; returns {stage: seconds} and the number of frames with a face."
    t = dict(decode=0., detect=0., crop=0., audio=0.); fps = probe_video(path)['fps']; a = AUDIO_SETTINGS
    aw, tr, faces, frames = AudioWindows(path, a['sr'], a['window']), FaceTracker(), 0, video_frames(path)
    while True:
        c0 = clock()
        f = next(frames, None)
        c1 = clock(); t['decode'] += c1 - c0
        if f is None: break
        r = det(f.image) if f.index % detect_every == 0 else None
        c2 = clock(); t['detect'] += c2 - c1
        g = tr.update(f.time, r); crop_face(f.image, g); faces += g is not None
        c3 = clock(); t['crop'] += c3 - c2
        if (f.index + 1) % stride == 0: log_mel(aw(clip_end_sample(f.index, f.end, fps)))
        t['audio'] += clock() - c3
    return t, faces


@call_parse
def main(seconds:float=5., # video length
         fps:int=30, # frame rate
         width:int=640, # frame width
         height:int=480, # frame height
         detect_every:int=2, # detector on every n-th frame (the `face_crops` default)
         detect_side:int=360, # detector input's longer side (the `FaceDetector` default)
         clock:str='process', # 'process' (CPU seconds of this process) or 'wall'
        ):
    "Print the real-time factor of each front-end stage."
    torch.set_num_threads(1); warnings.simplefilter('ignore')
    clk = time.process_time if clock == 'process' else time.perf_counter
    with tempfile.TemporaryDirectory() as d:
        n = int(round(seconds * fps)); t0 = time.perf_counter()
        v = write_face_video(Path(d) / 'bench.mp4', n_frames=n, fps=fps, size=(width, height))
        dur = n / fps
        print(f'{n} frames, {width}x{height} @ {fps} fps with audio ({dur:.1f} s of video, written in {time.perf_counter() - t0:.1f} s); '
              f'detect_every={detect_every}, detect_side={detect_side}, clock={clock}, torch threads 1, '
              f'load average {os.getloadavg()[0]:.1f} (nproc {os.cpu_count()})')
        kinds = (['yuface'] if _yuface() else []) + ['haar']
        print(f"{'stage':<28}" + ''.join(f'{k:>12}' for k in kinds) + '   (seconds per video second)')
        res = {}
        for k in kinds:
            res[k] = staged(v['path'], FaceDetector(k, detect_side=detect_side), detect_every, clk)
        for s in ('decode', 'detect', 'crop', 'audio'):
            print(f"{s:<28}" + ''.join(f'{res[k][0][s] / dur:>12.3f}' for k in kinds))
        print(f"{'sum of stages':<28}" + ''.join(f'{sum(res[k][0].values()) / dur:>12.3f}' for k in kinds))
        tot = {}
        for k in kinds:
            c0 = clk()
            for _ in video_clips(v['path'], detector=FaceDetector(k, detect_side=detect_side), detect_every=detect_every): pass
            tot[k] = clk() - c0
        print(f"{'video_clips (whole pass)':<28}" + ''.join(f'{tot[k] / dur:>12.3f}' for k in kinds))
        print(f"{'frames with a face':<28}" + ''.join(f'{res[k][1] / n:>11.0%} ' for k in kinds))
