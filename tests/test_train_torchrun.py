"""`jmt-train` under torchrun (2 gloo processes on the CPU): rank 0 prepares the synthetic data and features while rank
1 waits, both train, rank 0 alone writes the results; and an error on rank 0 during preparation ends the job with that
error instead of leaving rank 1 waiting forever."""
import csv, os, subprocess, sys

import pytest

TINY = ['--n_frames', '48', '--epochs', '1', '--batch_size', '2', '--seq_len', '4', '--quiet']


def _torchrun(tmp_path, *args, timeout=240):
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore'}
    return subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', '-m', 'jmt.cli.train',
                           '--out_dir', str(tmp_path / 'out'), *args], capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=tmp_path)


def test_jmt_train_under_torchrun(tmp_path):
    r = _torchrun(tmp_path, '--n_videos', '7', *TINY)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.count('validation CCC') == 1, r.stdout  # rank 0 reports, once
    run = tmp_path / 'out' / 'jmt_release_fold-official_seed-0'
    rows = list(csv.DictReader(open(run / 'results.csv')))
    assert len(rows) == 1 and rows[0]['model'] == 'jmt' and rows[0]['epochs'] == '1'
    assert (run / 'best.pt').is_file() and (run / 'last.pt').is_file()
    assert not list((tmp_path / 'out').rglob('*.tmp'))  # every file was written atomically and completely


def test_error_during_preparation_ends_the_job(tmp_path):
    r = _torchrun(tmp_path, '--n_videos', '5', *TINY, timeout=120)  # too few videos for the synthetic splits
    assert r.returncode != 0
    assert 'n_videos must be >= 7' in r.stderr
