"""CI ran out of disk once (`OSError: [Errno 28] No space left on device` in a tmp_path, beside a 5 GB venv): pytest kept
every test's tmp_path (about 7 GB of checkpoints, videos and caches by the end), and nbdev_test left about 1 GB of the
notebooks' tempfile folders behind. These checks keep both cleaned up."""
import configparser, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_pytest_deletes_the_tmp_path_of_a_passing_test():
    cfg = configparser.ConfigParser(); cfg.read(ROOT/'pytest.ini')
    assert cfg['pytest'].get('tmp_path_retention_policy') == 'failed', 'pytest.ini: set tmp_path_retention_policy = failed'
    assert int(cfg['pytest'].get('tmp_path_retention_count', 3)) <= 1


def _nbdev_test_line() -> str:
    "The shell line `make test` runs nbdev_test with."
    r = subprocess.run(['make', '-n', 'test', 'PY=python'], cwd=ROOT, capture_output=True, text=True, check=True)
    line, = [l for l in r.stdout.splitlines() if 'nbdev_test' in l and not l.lstrip().startswith('#')]
    return line


def test_nbdev_test_scratch_folder_is_removed_and_its_status_kept(tmp_path):
    "A stand-in nbdev_test writes into its TMPDIR and fails: the folder is gone afterwards and make sees the failure."
    bin_ = tmp_path/'bin'; bin_.mkdir(); seen = tmp_path/'seen'
    stub = bin_/'nbdev_test'
    stub.write_text(f'#!/bin/sh\necho "$TMPDIR" > {seen}\nhead -c 1000 /dev/zero > "$TMPDIR/scratch"\nexit 3\n'); stub.chmod(0o755)
    env = {**os.environ, 'PATH': f'{bin_}{os.pathsep}{os.environ["PATH"]}', 'TMPDIR': str(tmp_path)}
    r = subprocess.run(['bash', '-c', _nbdev_test_line()], cwd=ROOT, env=env, capture_output=True, text=True)
    assert r.returncode == 3, (r.returncode, r.stderr)
    scratch = Path(seen.read_text().strip())
    assert scratch.parent == tmp_path and not scratch.exists(), scratch
