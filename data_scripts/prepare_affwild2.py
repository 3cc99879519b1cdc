#!/usr/bin/env python
"""Prepare an Aff-Wild2 (ABAW VA track) folder for jmt: validate it, write the index, audio, labels and folds.

    python data_scripts/prepare_affwild2.py --raw /data/affwild2 --out prepared/affwild2
    python data_scripts/prepare_affwild2.py --raw synth/affwild2 --out prepared/synth --synthetic   # no dataset at hand

Resumable: a re-run skips raw videos already finished and still valid, and redoes (naming them) those whose inputs
changed or whose outputs are missing or damaged; files appear only complete (see nbs/03_data.prepare.ipynb).
The ABAW test files (test-set name list, sample submission) are found by their content anywhere under --raw, or given
with --test_list / --test_sample; when absent, a warning says the test split is empty and how to add them.
A label file whose line count does not match its video is an error; `--on_error skip` prepares the rest without it.
A thin wrapper over `jmt.data.prepare.prepare_affwild2`.
"""
from pathlib import Path

from jmt.core import ArgumentError, script

from jmt.data.prepare import prepare_affwild2, format_summary
from jmt.data.synthetic import write_synthetic_affwild2


@script(lock=lambda a: a['out'])  # one-line errors, --debug, --wait; one writer per --out folder
def main(raw:str=None, # the raw Aff-Wild2 folder (batch1/, batch2/, cropped_aligned/, annotations)
         out:str=None, # the prepared folder to write (created; re-runs resume)
         sr:int=44100, # audio sample rate of the prepared audio
         folds:int=5, # number of video-disjoint cross-validation folds (at least 2)
         seed:int=0, # fold seed
         test_list:str=None, # the ABAW VA test-set name list (default: recognised by its content anywhere under --raw)
         test_sample:str=None, # the ABAW VA sample submission CSV (default: recognised by its content anywhere under --raw)
         synthetic:bool=False, # first write the default synthetic Aff-Wild2 to --raw if that folder does not exist
         quiet:bool=False, # no progress bar
         on_error:str='raise', # a bad raw video (label line count, crop names, undecodable): raise, or skip it (listed as FAILED)
        ):
    "Validate a raw Aff-Wild2 folder and write the prepared index, audio, labels and folds."
    for k, v in (('raw', raw), ('out', out)):  # a usage error: exit status 2
        if v is None: raise ArgumentError(k, 'a folder (usage: prepare_affwild2.py --raw DIR --out DIR)', v)
    if synthetic and not Path(raw).exists():
        write_synthetic_affwild2(raw)
        print(f'wrote the synthetic Aff-Wild2 to {raw}')
    import warnings
    with warnings.catch_warnings(record=True) as caught:  # redone videos, truncated files: one clean line each
        warnings.simplefilter('always')
        try: index = prepare_affwild2(raw, out, sr=sr, k=folds, seed=seed, test_list=test_list, test_sample=test_sample,
                                      progress=not quiet, on_error=on_error)
        except ArgumentError as e:  # checked before any work; named as on this command line
            if e.name != 'k': raise
            raise ArgumentError('folds', e.allowed, e.value) from None
    for m in dict.fromkeys(str(w.message) for w in caught): print(f'WARNING: {m}')
    print(format_summary(index['summary']))
    print(f"prepared {len(index['videos'])} persons into {out} (index.json, audio/, labels/, folds.json)")
