#!/usr/bin/env python
"""Train one modality's backbone with a head on its raw clips, then save `OUT/backbone.pt`: a thin CLI over
`jmt.tasks.unimodal.train_backbone` (defaults: the paper's settings — visual SGD lr 1e-3 batch 8, audio Adam lr 1e-2 batch 64).

    python data_scripts/train_backbone.py --prepared DIR --backbone visual --weights r2plus1d_18-91a641e6.pth --out runs/visual
    python data_scripts/train_backbone.py --prepared DIR --backbone audio --weights resnet18-f37072fd.pth --out runs/audio
    python data_scripts/train_backbone.py --prepared BIOVID_DIR --backbone bio --channels gsr --out runs/bio
    python data_scripts/extract_features.py --prepared DIR --backbone visual --weights runs/visual/backbone.pt

Re-running with --resume continues from `OUT/last.pt`.

The options and their handling live in `jmt.cli.scripts.train_backbone_main` (nbs/86_cli.scripts.ipynb); this file only runs it.
"""
from jmt.cli.scripts import train_backbone_main as main

if __name__ == '__main__': main()
