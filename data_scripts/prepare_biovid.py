#!/usr/bin/env python
"""Prepare BioVid Heat Pain Part A for jmt: face crops of the 2.0-5.0 s span, biosignals, index and protocol folds.

A thin wrapper over `jmt.data.biovid.prepare_biovid` (the notebook `nbs/06_data.biovid.ipynb` documents the format).
Resumable: re-running skips finished windows; every file is written atomically.

    python data_scripts/prepare_biovid.py --raw /data/biovid/PartA --out data/biovid_prepared
    python data_scripts/prepare_biovid.py --synthetic --raw data/biovid_synth --out data/biovid_prepared   # no dataset at hand
"""
import json, sys, time, warnings
from pathlib import Path

from fastcore.script import store_true

from jmt.core import ArgumentError, script
from jmt.data.biovid import BIO_CHANNELS, format_summary, prepare_biovid
from jmt.data.biovid_synthetic import write_synthetic_biovid


@script(lock=lambda a: a['out'])  # one-line errors, --debug, --wait; one writer per --out folder
def main(raw:str=None, # BioVid Part A folder (holding starting_point/); default: $JMT_BIOVID
         out:str=None, # prepared folder to write (resumed when it exists)
         synthetic:store_true=False, # first write the default synthetic dataset into --raw if it has no samples.csv
         n_subjects:int=5, # synthetic: subjects
         n_per_class:int=2, # synthetic: windows per class and subject
         signals:str='filtered', # 'filtered' or 'raw' biosignals
         channels:str=','.join(BIO_CHANNELS), # comma-separated biosignal columns to keep, GSR first
         t0:float=2.0, # start of the video span (s)
         t1:float=5.0, # end of the video span (s)
         size:int=112, # face crop side
         max_nan_run:int=0, # interpolate NaN runs up to this length; longer runs are an error
         on_error:str='raise', # 'raise' stops at the first bad window, 'skip' lists it in the summary
         reactive:str=None, # optional file of subject names (e.g. the 67 'reactive' subjects) for extra fold files
         k:int=5, # folds of the sample-level protocol
         seed:int=0, # seed of the sample-level folds
         workers:int=1, # parallel processes (the output is the same)
         quiet:store_true=False, # no progress bar
        ):
    "Prepare BioVid Part A (or a synthetic copy) into `--out` and print the validation summary."
    if out is None: raise ArgumentError('out', 'the folder to write (usage: prepare_biovid.py --raw DIR --out DIR)', out)  # exit status 2
    if synthetic:
        if raw is None: raise ArgumentError('raw', 'the folder to write the synthetic dataset into, with --synthetic', raw)
        if not (Path(raw) / 'starting_point' / 'samples.csv').exists():
            t = time.time()
            write_synthetic_biovid(raw, n_subjects=n_subjects, n_per_class=n_per_class, seed=seed)
            print(f'wrote the synthetic BioVid dataset to {raw} in {time.time() - t:.1f}s')
    t = time.time()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        summary = prepare_biovid(raw, out, signals=signals, channels=[c.strip() for c in channels.split(',') if c.strip()],
                                 t0=t0, t1=t1, size=size, max_nan_run=max_nan_run, on_error=on_error, reactive=reactive,
                                 k=k, seed=seed, progress=not quiet, workers=workers)
    for m in {str(x.message) for x in w}: print(f'WARNING: {m}')
    print(format_summary(summary))
    print(f'prepared data in {out} ({time.time() - t:.1f}s); index: {Path(out) / "index.json"}')
    if summary['n_failed']: sys.exit(1)
