#!/usr/bin/env python
"""Prepare BioVid Heat Pain Part A for jmt: face crops of the 2.0-5.0 s span, biosignals, index and protocol folds.

A thin wrapper over `jmt.data.biovid.prepare.prepare_biovid` (the notebook `nbs/12_data.biovid.raw.ipynb` documents the format).
Resumable: re-running skips finished windows; every file is written atomically.

    python data_scripts/prepare_biovid.py --raw /data/biovid/PartA --out data/biovid_prepared
    python data_scripts/prepare_biovid.py --synthetic --raw data/biovid_synth --out data/biovid_prepared   # no dataset at hand

The options and their handling live in `jmt.cli.scripts.prepare_biovid_main` (nbs/86_cli.scripts.ipynb); this file only runs it.
"""
from jmt.cli.scripts import prepare_biovid_main as main

if __name__ == '__main__': main()
