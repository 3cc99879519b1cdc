#!/usr/bin/env python
"""Cache frozen-backbone features for one modality of a prepared dataset: a thin CLI over `jmt.features.extract_prepared`.

    python data_scripts/extract_features.py --prepared DIR --backbone visual --weights kinetics400   # torchvision's, downloaded once
    python data_scripts/extract_features.py --prepared DIR --backbone audio --weights imagenet
    python data_scripts/extract_features.py --prepared DIR --backbone audio --weights resnet18-f37072fd.pth   # a local file
    python data_scripts/extract_features.py --prepared DIR --backbone visual --weights runs/visual/backbone.pt  # train_backbone's
    python data_scripts/extract_features.py --prepared BIOVID_DIR --backbone bio --weights runs/bio/backbone.pt --channels gsr

Features go to `<cache>/<modality>/` (default cache: `<prepared>/features`). Re-running resumes, and redoes (naming them)
videos whose file is missing, truncated or changed, or whose inputs changed; a cache built with another backbone, weights,
seed or clip settings is refused (use another `--cache`, or `--overwrite`). Without weights the backbone is a random
initialisation drawn from `--seed` (default 0), so identical commands give identical caches.
"""
from __future__ import annotations
import os
from pathlib import Path

from jmt.core import check_choice, script


def default_workers(device:str|None) -> int:
    "DataLoader workers: 1 on a CPU; on a GPU, every core this process may use but one (at most 8)."
    import torch
    from jmt.core import get_device
    if get_device(device).type == 'cpu': return 1
    return max(1, min(8, len(os.sched_getaffinity(0)) - 1))


def _out_folder(a:dict) -> Path|None:
    "The folder this run writes, `<cache>/<backbone>`, to lock; None before the arguments are known to be usable."
    prepared = a['prepared'] or os.environ.get('JMT_DATA')
    if a['backbone'] not in ('visual', 'audio', 'bio') or not prepared or not Path(prepared).is_dir(): return None
    return Path(a['cache'] or Path(prepared)/'features')/a['backbone']


@script(lock=_out_folder)  # one-line errors, --debug, --wait; one writer per feature folder
def main(prepared:str=None, # the prepared dataset folder (output of the data preparation scripts); default: $JMT_DATA
         backbone:str=None, # which modality backbone: visual, audio or bio
         weights:str=None, # kinetics400 (visual) / imagenet (audio): torchvision's pretrained weights (downloaded into the torch hub cache once); or a local state_dict file (torchvision's or train_backbone's); default: torch hub cache, else random init with a warning
         seed:int=0, # without a weights file (or with --weights random) the backbone is drawn from this seed, recorded in the cache
         cache:str=None, # the feature cache root; default: PREPARED/features
         dataset:str=None, # affwild2 or biovid (default: biovid for bio, affwild2 otherwise)
         img_size:int=None, # face crop side fed to the visual backbone (default: the Dataset's, 112)
         clip_stride:int=None, # Aff-Wild2: a clip ends every CLIP_STRIDE frames (default: the Dataset's, 32)
         names:str=None, # Aff-Wild2: a split (train, val, test) or comma-separated person names; BioVid: comma-separated samples (default: all)
         n_clips:int=None, # BioVid: clips per window (default: the Dataset's, 4)
         task:str=None, # BioVid: binary, multiclass or regression (which windows; default: binary)
         pool:str='avg', # visual pooling: avg, or flatten (the release's flatten+linear, fixed img_size)
         channels:str=None, # BioVid: comma-separated biosignal channels, e.g. gsr (the JMT setup); default: all prepared, GSR first
         batch_size:int=32, # clips per forward pass
         device:str=None, # cuda, cpu, ... (default: best available)
         num_workers:int=None, # DataLoader workers; default: 1 on a CPU (decoding in the main process competes with the backbone), on a GPU all cores but one, at most 8 (decoding must keep up with the GPU)
         precision:str='auto', # auto (bf16/fp16 on GPU, fp32 on CPU), bf16, fp16, fp32
         overwrite:bool=False, # rebuild a cache that was made with another configuration
        ):
    "Run a frozen backbone once over a prepared dataset and cache one float16 512-d vector per clip."
    from jmt.core import data_root
    from jmt.features import extract_prepared, read_index
    check_choice('backbone', backbone, ('visual', 'audio', 'bio'))  # (the library checks the rest before any work)
    prepared = data_root(prepared)
    if num_workers is None: num_workers = default_workers(device)
    dataset = dataset or ('biovid' if backbone == 'bio' else 'affwild2')
    sel = None if names is None else names if names in ('train', 'val', 'test') else [n for n in names.split(',') if n]
    clip_kw = (dict(img_size=img_size, clip_stride=clip_stride, names=sel) if dataset == 'affwild2' else
               dict(img_size=img_size, n_clips=n_clips, task=task, samples=sel,
                    channels=None if channels is None else [c for c in channels.split(',') if c]))
    if backbone == 'bio': clip_kw.pop('img_size')  # (Aff-Wild2 records img_size in every modality's settings: its Dataset's)
    bkw = dict(pool=pool) if backbone == 'visual' else {}  # the bio CNN's input channels follow --channels
    import warnings
    with warnings.catch_warnings(record=True) as caught:  # redone videos, random init: one clean line each
        warnings.simplefilter('always')
        folder = extract_prepared(prepared, backbone, weights, cache, dataset, bkw, batch_size=batch_size, num_workers=num_workers,
                                  device=device, precision=precision, overwrite=overwrite, seed=seed, **clip_kw)
    for m in dict.fromkeys(str(w.message) for w in caught): print(f'WARNING: {m}')
    idx = read_index(folder.parent, backbone)
    print(f"{backbone}: {len(idx['videos'])} videos, {sum(idx['videos'].values())} clips cached in {folder} "
          f"(backbone {idx['backbone']}, weights sha256 {idx['weights_sha256'][:12]}...)")
    return folder
