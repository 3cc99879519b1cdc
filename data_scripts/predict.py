#!/usr/bin/env python
"""Per-frame valence/arousal of any video with a trained run: `jmt-predict` (`jmt.cli.predict.predict`).

    python data_scripts/predict.py my.mp4 --run runs/train/jmt_fold-official --out predictions
    python data_scripts/predict.py videos/ --run RUN --out OUT --overlay --device cpu
    python data_scripts/predict.py 4-30-1280x720.avi --run RUN --out OUT --crops cropped_aligned/4-30-1280x720  # given crops

For each video: OUT/<video>.csv (frame,time_s,valence,arousal,face,x,y,w,h), OUT/<video>.png and, with --overlay,
OUT/<video>.overlay.mp4. Videos already done are skipped (--redo predicts them again); a failing video is reported in one
line and the others go on. The run folder must hold predict.json (`jmt.predict.bundle.write_predict_bundle`).
"""
from jmt.cli.core import run_cli
from jmt.cli.predict import predict  # parses and checks the arguments before torch loads

if __name__ == '__main__':
    import sys
    sys.exit(run_cli(predict.__wrapped__, prog='predict.py', check=predict.check))
