#!/usr/bin/env python
"""Train one modality's backbone with a head on its raw clips, then save `OUT/backbone.pt`: a thin CLI over
`jmt.unimodal.train_backbone` (defaults: the paper's settings — visual SGD lr 1e-3 batch 8, audio Adam lr 1e-2 batch 64).

    python data_scripts/train_backbone.py --prepared DIR --backbone visual --weights r2plus1d_18-91a641e6.pth --out runs/visual
    python data_scripts/train_backbone.py --prepared DIR --backbone audio --weights resnet18-f37072fd.pth --out runs/audio
    python data_scripts/train_backbone.py --prepared BIOVID_DIR --backbone bio --channels gsr --out runs/bio
    python data_scripts/extract_features.py --prepared DIR --backbone visual --weights runs/visual/backbone.pt

Re-running with --resume continues from `OUT/last.pt`.
"""
from __future__ import annotations
from jmt.core import check_choice, script


@script  # one-line errors, --debug, --wait (train_backbone locks --out)
def main(prepared:str=None, # the prepared dataset folder; default: $JMT_DATA
         backbone:str=None, # which modality: visual, audio or bio
         out:str='runs/backbone', # output folder (backbone.pt, history, checkpoints)
         weights:str=None, # initial weights: a local state_dict file, or 'random'; default: torch hub cache, else random with a warning
         dataset:str=None, # affwild2 or biovid (default: biovid for bio, affwild2 otherwise)
         epochs:int=None, # most epochs (default: the paper's 50, with early stopping)
         lr:float=None, # learning rate (default: the paper's)
         batch_size:int=None, # clips per step (default: the paper's)
         opt:str=None, # sgd or adam (default: the paper's)
         img_size:int=112, # face crop side
         clip_stride:int=32, # Aff-Wild2: a clip ends every CLIP_STRIDE frames
         n_clips:int=4, # BioVid: clips per window
         task:str='binary', # BioVid: binary or multiclass
         channels:str=None, # BioVid: comma-separated biosignal channels (default: all prepared, GSR first)
         freeze_until:str=None, # first backbone block that trains (e.g. layer3); default: all train
         patience:int=5, # early-stopping patience (epochs)
         num_workers:int=1, # DataLoader workers
         device:str=None, # cuda, cpu, ... (default: best available)
         seed:int=0, # run seed
         resume:bool=False, # continue from OUT/last.pt
        ):
    "Train a modality backbone (CCC loss on Aff-Wild2, cross-entropy on BioVid) and save OUT/backbone.pt."
    from jmt.core import data_root
    from jmt.unimodal import train_backbone
    check_choice('backbone', backbone, ('visual', 'audio', 'bio'))  # (the library checks the rest before any work)
    r = train_backbone(data_root(prepared), backbone, out, dataset=dataset, epochs=epochs, lr=lr, batch_size=batch_size, opt=opt,
                       weights=weights, img_size=img_size, clip_stride=clip_stride, n_clips=n_clips, task=task,
                       channels=None if channels is None else [c for c in channels.split(',') if c],
                       freeze_until=freeze_until, patience=patience, num_workers=num_workers, device=device, seed=seed,
                       resume=resume, plot=False)
    best = r['best'] or {}
    print(f"{backbone}: best epoch {best.get('epoch')} ({r['monitor']} {best.get(r['monitor'], float('nan')):.3f}); "
          f"saved {r['weights']} (sha256 {r['weights_sha256'][:12]}...)")
    return r['weights']
