"""Every console script (settings.ini `console_scripts`) and every `data_scripts/*.py` answers `--help` and a usage error
before it imports torch, torchvision, torchaudio or cv2 (importing torch alone takes seconds): the modules that define the
command lines import only their parser's needs, and the work's modules after parsing. Asserts on `python -X importtime`'s
list of imported modules, not on time."""
import configparser, inspect, os, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')])}
HEAVY = {'torch', 'torchvision', 'torchaudio', 'cv2'}
# what pip writes for a console script `name = module:func` (the wrapper `jmt-train` etc. that the user runs)
WRAPPER = """import re, sys
from {module} import {func}
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit({func}())
"""


def console_scripts() -> dict[str, str]:
    "settings.ini's console scripts: {name: 'module:func'}."
    c = configparser.ConfigParser(); c.read(ROOT / 'settings.ini')
    return dict(e.split('=') for e in c['DEFAULT']['console_scripts'].split())


CONSOLE = console_scripts()
DATA_SCRIPTS = sorted(p.name for p in (ROOT / 'data_scripts').glob('*.py'))


def _run(path:Path, *args) -> tuple[int, str, str, set]:
    "Run `python -X importtime path args`: exit status, stdout, stderr without the import lines, top-level modules imported."
    r = subprocess.run([sys.executable, '-X', 'importtime', str(path), *map(str, args)], capture_output=True, text=True,
                       env=ENV, cwd=ROOT, timeout=120)
    imp = [l for l in r.stderr.splitlines() if l.startswith('import time:')]
    mods = {l.rsplit('|', 1)[1].strip().split('.')[0] for l in imp[1:]}  # (the first line is the header)
    err = '\n'.join(l for l in r.stderr.splitlines() if not l.startswith('import time:'))
    return r.returncode, r.stdout, err, mods


def _wrapper(tmp_path:Path, name:str) -> Path:
    module, func = CONSOLE[name].split(':')
    p = tmp_path / name; p.write_text(WRAPPER.format(module=module, func=func))
    return p


def test_the_console_scripts_are_the_five_commands():
    assert sorted(CONSOLE) == ['jmt-extract', 'jmt-predict', 'jmt-prepare', 'jmt-reproduce', 'jmt-train']


@pytest.mark.parametrize('name', sorted(CONSOLE))
def test_console_script_help_imports_no_torch(tmp_path, name):
    rc, out, err, mods = _run(_wrapper(tmp_path, name), '--help')
    assert rc == 0 and 'usage:' in out and '--debug' in out, (rc, out[-500:], err[-2000:])
    assert 'jmt' in mods and not mods & HEAVY, sorted(mods & HEAVY)


@pytest.mark.parametrize('name', sorted(CONSOLE))
def test_console_script_usage_error_imports_no_torch(tmp_path, name):
    rc, out, err, mods = _run(_wrapper(tmp_path, name), 'v.mp4', '--bogus')  # (a video for jmt-predict's positional argument)
    assert rc == 2 and err.count('\n') == 0 and err.startswith('error: ') and 'unrecognized arguments:' in err and '--bogus' in err, (rc, err[-2000:])
    assert not mods & HEAVY, sorted(mods & HEAVY)


@pytest.mark.parametrize('name,args,msg', [
    ('jmt-train', ['--epochs', '0'], '--epochs must be an integer in 1..10000, got 0'),
    ('jmt-train', ['--seq_len', '1000000000'], '--seq_len must be an integer in 1..4096, got 1000000000'),
    ('jmt-train', ['--device', 'tpu'], "--device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got 'tpu'"),
    ('jmt-prepare', ['--folds', '0'], '--folds must be an integer in 2..100, got 0'),
    ('jmt-extract', ['--backbone', 'audio', '--batch_size', '0'], '--batch_size must be an integer in 1..4096, got 0'),
    ('jmt-predict', ['v.mp4'], '--run must be the training run folder'),
    ('jmt-predict', ['v.mp4', '--run', 'r', '--timing', 'x'], "--timing must be one of 'pts', 'index', got 'x'"),
    ('jmt-reproduce', ['--dataset', 'affwild2', '--seq_len', '1000000000'], '--seq_len must be an integer in 1..4096'),
    ('jmt-reproduce', ['--dataset', 'affwild'], "--dataset must be one of 'affwild2', 'biovid', got 'affwild'"),
])
def test_console_script_bound_errors_import_no_torch(tmp_path, name, args, msg):
    "A number out of range, a device or a choice of a fixed list: checked right after parsing, before torch loads."
    rc, out, err, mods = _run(_wrapper(tmp_path, name), *args)
    assert rc == 2 and err.count('\n') == 0 and msg in err, (rc, err[-2000:])
    assert not mods & HEAVY, sorted(mods & HEAVY)


@pytest.mark.parametrize('script', DATA_SCRIPTS)
def test_data_script_help_and_usage_error_import_no_torch(script):
    rc, out, err, mods = _run(ROOT / 'data_scripts' / script, '--help')
    assert rc == 0 and 'usage:' in out, (rc, err[-2000:])
    assert not mods & HEAVY, sorted(mods & HEAVY)
    rc, out, err, mods = _run(ROOT / 'data_scripts' / script, 'v.mp4', '--bogus')
    assert rc == 2 and 'unrecognized arguments:' in err and '--bogus' in err and err.count('\n') == 0, (rc, err[-2000:])
    assert not mods & HEAVY, sorted(mods & HEAVY)


def test_importing_jmt_core_loads_no_torch():
    code = "import sys, jmt, jmt.core, jmt.cli.core, jmt.cli.prepare, jmt.cli.extract, jmt.cli.train, jmt.cli.predict, jmt.cli.reproduce, jmt.cli.scripts; print(sorted(set(sys.modules) & %r))" % HEAVY
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=ENV, cwd=ROOT, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == '[]', (r.stdout, r.stderr[-2000:])
