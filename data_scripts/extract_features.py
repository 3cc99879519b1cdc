#!/usr/bin/env python
"""Cache frozen-backbone features for one modality of a prepared dataset: a thin CLI over `jmt.tasks.extract.extract_prepared`.

    python data_scripts/extract_features.py --prepared DIR --backbone visual --weights kinetics400   # torchvision's, downloaded once
    python data_scripts/extract_features.py --prepared DIR --backbone audio --weights imagenet
    python data_scripts/extract_features.py --prepared DIR --backbone audio --weights resnet18-f37072fd.pth   # a local file
    python data_scripts/extract_features.py --prepared DIR --backbone visual --weights runs/visual/backbone.pt  # train_backbone's
    python data_scripts/extract_features.py --prepared BIOVID_DIR --backbone bio --weights runs/bio/backbone.pt --channels gsr

Features go to `<cache>/<modality>/` (default cache: `<prepared>/features`). Re-running resumes, and redoes (naming them)
videos whose file is missing, truncated or changed, or whose inputs changed; a cache built with another backbone, weights,
seed or clip settings is refused (use another `--cache`, or `--overwrite`). Without weights the backbone is a random
initialisation drawn from `--seed` (default 0), so identical commands give identical caches.

The options and their handling live in `jmt.cli.scripts.extract_features_main` (nbs/86_cli.scripts.ipynb); this file only runs it.
"""
from jmt.cli.scripts import extract_features_main as main, default_workers

if __name__ == '__main__': main()
