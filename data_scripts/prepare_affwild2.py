#!/usr/bin/env python
"""Prepare an Aff-Wild2 (ABAW VA track) folder for jmt: validate it, write the index, audio, labels and folds.

    python data_scripts/prepare_affwild2.py --raw /data/affwild2 --out prepared/affwild2
    python data_scripts/prepare_affwild2.py --raw synth/affwild2 --out prepared/synth --synthetic   # no dataset at hand

Resumable: a re-run skips raw videos already finished and still valid, and redoes (naming them) those whose inputs
changed or whose outputs are missing or damaged; files appear only complete (see nbs/07_data.affwild2.prepare.ipynb).
The ABAW test files (test-set name list, sample submission) are found by their content anywhere under --raw, or given
with --test_list / --test_sample; when absent, a warning says the test split is empty and how to add them.
A label file whose line count does not match its video is an error; `--on_error skip` prepares the rest without it.
A thin wrapper over `jmt.data.affwild2.prepare.prepare_affwild2`.

The options and their handling live in `jmt.cli.scripts.prepare_affwild2_main` (nbs/86_cli.scripts.ipynb); this file only runs it.
"""
from jmt.cli.scripts import prepare_affwild2_main as main

if __name__ == '__main__': main()
