#!/usr/bin/env python
"""Cache frozen-backbone features for one modality of a prepared dataset: a thin CLI over `jmt.features`.

    python data_scripts/extract_features.py --prepared DIR --backbone visual --weights r2plus1d_18-91a641e6.pth
    python data_scripts/extract_features.py --prepared DIR --backbone audio --weights resnet18-f37072fd.pth
    python data_scripts/extract_features.py --prepared DIR --backbone bio --weights bio_cnn.pth

Features go to `<cache>/<modality>/` (default cache: `<prepared>/features`). Re-running resumes; a cache built with
another backbone, weights or settings is refused (use another `--cache`, or `--overwrite`).
"""
from __future__ import annotations
import importlib, os
from pathlib import Path

from fastcore.script import call_parse

# Where the raw-clip Datasets of each dataset live (they follow the shared raw-clip item interface).
CLIP_DATASETS = {'affwild2': ('jmt.data.affwild2', 'AffWild2Clips'), 'biovid': ('jmt.data.biovid', 'BioVidClips')}


def clip_dataset_for(prepared_dir:str|os.PathLike, # the prepared dataset folder
                     modality:str, # 'visual', 'audio' or 'bio'
                     dataset:str|None=None, # 'affwild2' or 'biovid'; None: biovid for 'bio', else affwild2
                     **settings, # clip/preparation settings passed to the Dataset (e.g. img_size=112)
                    ):
    "The raw-clip Dataset yielding `modality`'s inputs for every clip of a prepared dataset (imports `jmt.data` lazily)."
    dataset = dataset or ('biovid' if modality == 'bio' else 'affwild2')
    if dataset not in CLIP_DATASETS: raise ValueError(f"unknown dataset {dataset!r}: expected one of {sorted(CLIP_DATASETS)}")
    modname, clsname = CLIP_DATASETS[dataset]
    try: mod = importlib.import_module(modname)
    except ModuleNotFoundError as e:
        raise ImportError(f"feature extraction for {dataset} needs the raw-clip Dataset {modname}.{clsname}, but {e.name!r} "
                          f"is not installed in this jmt: update jmt (pip install -e .) to a version that has it") from e
    cls = getattr(mod, clsname, None)
    if cls is None: raise ImportError(f"{modname} has no {clsname}: update jmt (pip install -e .)")
    return cls(prepared_dir, modalities=(modality,), **settings)


@call_parse
def main(prepared:str=None, # the prepared dataset folder (output of the data preparation scripts); default: $JMT_DATA
         backbone:str=None, # which modality backbone: visual, audio or bio
         weights:str=None, # local state_dict file (torchvision's or ours); default: torch hub cache, else random init with a warning
         cache:str=None, # the feature cache root; default: PREPARED/features
         dataset:str=None, # affwild2 or biovid (default: biovid for bio, affwild2 otherwise)
         img_size:int=112, # face crop size fed to the visual backbone
         pool:str='avg', # visual pooling: avg, or flatten (the release's flatten+linear, fixed img_size)
         in_channels:int=1, # bio channels (1 = GSR; more = GSR + ECG/EMG)
         batch_size:int=32, # clips per forward pass
         device:str=None, # cuda, cpu, ... (default: best available)
         num_workers:int=2, # DataLoader workers
         precision:str='auto', # auto (bf16/fp16 on GPU, fp32 on CPU), bf16, fp16, fp32
         overwrite:bool=False, # rebuild a cache that was made with another configuration
        ):
    "Run a frozen backbone once over a prepared dataset and cache one float16 512-d vector per clip."
    from jmt.backbones import make_backbone
    from jmt.core import data_root
    from jmt.features import extract_features, read_index
    if backbone not in ('visual', 'audio', 'bio'): raise SystemExit(f"--backbone must be visual, audio or bio, got {backbone!r}")
    prepared = data_root(prepared)
    kw = {'visual': dict(pool=pool, img_size=img_size), 'bio': dict(in_channels=in_channels)}.get(backbone, {})
    bb = make_backbone(backbone, weights, **kw)
    ds_kw = {'img_size': img_size} if backbone == 'visual' else {}
    ds = clip_dataset_for(prepared, backbone, dataset, **ds_kw)
    settings = {**(getattr(ds, 'settings', None) or {}), **ds_kw}
    root = Path(cache) if cache else prepared/'features'
    folder = extract_features(ds, backbone, root, bb, settings, batch_size=batch_size, device=device,
                              num_workers=num_workers, precision=precision, overwrite=overwrite)
    idx = read_index(root, backbone)
    print(f"{backbone}: {len(idx['videos'])} videos, {sum(idx['videos'].values())} clips cached in {folder} "
          f"(backbone {idx['backbone']}, weights {bb.weights_source})")
    return folder
