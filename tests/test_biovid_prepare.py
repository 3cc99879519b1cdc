"""data_scripts/prepare_biovid.py: the default synthetic set in < 2 min, and killed half-way + re-run == uninterrupted."""
import os, signal, subprocess, sys, time, warnings
from pathlib import Path

import pytest

from jmt.data.biovid.prepare import prepare_biovid
from jmt.data.biovid.synthetic import write_synthetic_biovid

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / 'data_scripts' / 'prepare_biovid.py'
ENV = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', ''))


def _cmd(*args): return [sys.executable, str(SCRIPT), *map(str, args)]


def _tree(d):
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(Path(d).rglob('*')) if p.is_file()}


def test_default_synthetic_under_two_minutes(tmp_path):
    t = time.time()
    r = subprocess.run(_cmd('--synthetic', '--raw', tmp_path / 'raw', '--out', tmp_path / 'prep', '--quiet'),
                       capture_output=True, text=True, env=ENV, timeout=300)
    dt = time.time() - t
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'samples: 50/50 prepared' in r.stdout and 'CENTRE-CROP fallback' in r.stdout
    assert dt < 120, f'preparing the default synthetic BioVid took {dt:.0f}s'


def test_killed_and_rerun_equals_uninterrupted(tmp_path):
    raw = write_synthetic_biovid(tmp_path / 'raw', n_subjects=4, n_per_class=1, seed=3)  # 20 windows
    a, b = tmp_path / 'a', tmp_path / 'b'
    with warnings.catch_warnings():  # the uninterrupted reference, in-process (the script is a thin wrapper of this)
        warnings.simplefilter('ignore')
        prepare_biovid(raw, a, progress=False)
    p = subprocess.Popen(_cmd('--raw', raw, '--out', b, '--quiet'), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
    try:
        deadline = time.time() + 120
        while time.time() < deadline and len(list((b / 'meta').glob('*.json'))) < 6 and p.poll() is None: time.sleep(0.01)
        p.send_signal(signal.SIGKILL)
    finally:
        p.wait(timeout=60)
    assert p.returncode == -signal.SIGKILL, 'the run finished before it could be killed'
    n_done = len(list((b / 'meta').glob('*.json')))
    assert 0 < n_done < 20 and not (b / 'index.json').exists()
    r = subprocess.run(_cmd('--raw', raw, '--out', b, '--quiet'), capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f'{n_done} already done' in r.stdout
    ta, tb = _tree(a), _tree(b)
    assert sorted(ta) == sorted(tb)
    assert [k for k in ta if ta[k] != tb[k]] == []


def test_another_datasets_folder_is_named(tmp_path):
    "An Aff-Wild2 prepared folder passed where a BioVid one is expected: an error naming the file, not `KeyError: 'samples'`."
    from jmt.data.biovid.datasets import load_index
    (tmp_path / 'index.json').write_text('{"version": 1, "videos": {}}')
    with pytest.raises(ValueError, match=f"{tmp_path / 'index.json'} is not a prepared BioVid index"): load_index(tmp_path)


def test_a_bad_subject_list_fails_before_the_work(tiny_biovid_prepared, tmp_path):
    "--reactive names a missing file, or a subject the dataset lacks: an error naming it before any window is prepared."
    raw = tiny_biovid_prepared.parent / 'raw'  # (read only)
    with pytest.raises(FileNotFoundError, match=f"subject list {tmp_path / 'missing.txt'} not found"):
        prepare_biovid(raw, tmp_path / 'out', reactive=tmp_path / 'missing.txt', detector=None, progress=False)
    (tmp_path / 'r.txt').write_text('nobody\n')
    with pytest.raises(ValueError, match="r.txt line 1: subject 'nobody' is not in the dataset"):
        prepare_biovid(raw, tmp_path / 'out', reactive=tmp_path / 'r.txt', detector=None, progress=False)
    assert not (tmp_path / 'out').exists()
