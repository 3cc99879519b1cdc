"""Every command line checks its arguments before any work, under the names the user typed, with sane ranges for its
numbers (`jmt.cli.core.BOUNDS`): a usage error exits 2 with one short line and leaves nothing behind (no data made, no
`raw/` link, no folder). Each case runs the console script as the user does (pip's wrapper) on tiny inputs, and fails
before anything is generated, so each costs about one light `import jmt`."""
import inspect, os, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')])}
ENV.pop('JMT_DATA', None)
WRAPPER = "import sys\nfrom {module} import {func}\nif __name__ == '__main__': sys.exit({func}())\n"
COMMANDS = {'jmt-train': 'jmt.cli.train:train', 'jmt-prepare': 'jmt.cli.prepare:prepare', 'jmt-extract': 'jmt.cli.extract:extract',
            'jmt-predict': 'jmt.cli.predict:predict', 'jmt-reproduce': 'jmt.cli.reproduce:main'}


def _cmd(tmp_path:Path, name:str, *args, timeout:int=90) -> subprocess.CompletedProcess:
    "Run console script `name` (as pip's wrapper runs it) with `args`, in `tmp_path/cwd`."
    module, func = COMMANDS[name].split(':')
    w = tmp_path / f'{name}.py'; w.write_text(WRAPPER.format(module=module, func=func))
    cwd = tmp_path / 'cwd'; cwd.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, str(w), *map(str, args)], capture_output=True, text=True, env=ENV, cwd=cwd, timeout=timeout)


def _script(tmp_path:Path, script:str, *args) -> subprocess.CompletedProcess:
    cwd = tmp_path / 'cwd'; cwd.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, str(ROOT / 'data_scripts' / script), *map(str, args)], capture_output=True, text=True,
                          env=ENV, cwd=cwd, timeout=90)


def _usage(r:subprocess.CompletedProcess, msg:str) -> str:
    "`r` is a usage error: exit 2, one short `error:` line holding `msg`, no traceback."
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and msg in lines[0], r.stderr[-2000:]
    assert len(lines[0]) < 300, len(lines[0])  # short: no list of a million folds
    return lines[0]


def _nothing_made(tmp_path:Path):
    made = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob('*') if p.suffix != '.py' and p.name not in ('cwd', 'raw'))
    assert made == [], made
    assert list((tmp_path / 'cwd').iterdir()) == []  # no default output folder either


@pytest.fixture
def raw(tmp_path) -> Path:
    "An (empty) raw folder: enough for the argument checks, which come first."
    (tmp_path / 'raw').mkdir()
    return tmp_path / 'raw'


@pytest.mark.parametrize('dataset', ['affwild2', 'biovid'])
def test_reproduce_unknown_model_fails_before_any_data(tmp_path, dataset):
    "Finding: `jmt-reproduce --models gpt` generated, prepared and extracted the synthetic set (~40 s, 26 MB) before refusing it."
    r = _cmd(tmp_path, 'jmt-reproduce', '--dataset', dataset, '--models', 'jmt,gpt', '--out_dir', tmp_path / 'out')
    _usage(r, "--models must be one of 'jmt', 'mt', 'vanilla'")
    assert "got 'gpt'" in r.stderr and r.stdout == ''
    _nothing_made(tmp_path)


@pytest.mark.parametrize('args,msg', [
    (['--folds', '0,9'], "--folds must be one of 'official', 0, 1, 2, 3, 4, got 9"),
    (['--folds', 'first'], "--folds must be a comma-separated list of official, 0, 1, 2, 3, 4, got 'first'"),
    (['--drops', 'face'], "--drops must be one of 'audio', 'visual', 'frames', got 'face'"),
    (['--tasks', 'binary'], '--tasks must be left out for --dataset affwild2'),
    (['--epochs', '0'], '--epochs must be an integer in 1..10000, got 0'),
    (['--n_frames', '1000000000'], '--n_frames must be an integer in 1..36000'),
    (['--lr', 'nan'], '--lr must be a finite number > 0 and <= 10, got nan'),
])
def test_reproduce_affwild2_arguments_fail_before_any_data(tmp_path, args, msg):
    _usage(_cmd(tmp_path, 'jmt-reproduce', '--dataset', 'affwild2', '--out_dir', tmp_path / 'out', *args), msg)
    _nothing_made(tmp_path)


def test_prepare_folds_named_as_typed(tmp_path, raw):
    "Finding: `jmt-prepare --folds 0` said `k must be ...` (the library's name), and left DATA/raw behind."
    _usage(_cmd(tmp_path, 'jmt-prepare', '--data', tmp_path / 'data', '--raw', raw, '--folds', '0'), '--folds must be an integer in 2..100, got 0')
    _nothing_made(tmp_path)


def test_prepare_biovid_img_size_named_as_typed(tmp_path, raw):
    "Finding: `jmt-prepare --dataset biovid --img_size 0` said `size must be ...`."
    r = _cmd(tmp_path, 'jmt-prepare', '--dataset', 'biovid', '--data', tmp_path / 'data', '--raw', raw, '--img_size', '0')
    _usage(r, '--img_size must be an integer in 8..1024, got 0')
    _nothing_made(tmp_path)


@pytest.mark.parametrize('how', ['jmt-prepare', 'prepare_affwild2.py', 'prepare_biovid.py'])
def test_a_million_folds_are_refused(tmp_path, raw, how):
    "Finding: `--folds 1000000` was accepted, and wrote a 7 MB folds.json and a 7.9 MB warning line."
    if how == 'jmt-prepare': r, flag = _cmd(tmp_path, how, '--data', tmp_path / 'data', '--raw', raw, '--folds', '1000000'), '--folds'
    elif how == 'prepare_affwild2.py': r, flag = _script(tmp_path, how, '--raw', raw, '--out', tmp_path / 'out', '--folds', '1000000'), '--folds'
    else: r, flag = _script(tmp_path, how, '--raw', raw, '--out', tmp_path / 'out', '--synthetic', '--k', '1000000'), '--k'
    _usage(r, f'{flag} must be an integer in 2..100, got 1000000')
    _nothing_made(tmp_path)


@pytest.mark.parametrize('name,args,flag', [
    ('jmt-train', ['--seq_len', '1000000000'], '--seq_len'), ('jmt-train', ['--batch_size', '1000000000'], '--batch_size'),
    ('jmt-train', ['--n_frames', '1000000000'], '--n_frames'), ('jmt-train', ['--img_size', '100000'], '--img_size'),
    ('jmt-train', ['--train_stride', '0'], '--train_stride'), ('jmt-train', ['--seed', '-1'], '--seed'),
    ('jmt-reproduce', ['--dataset', 'affwild2', '--seq_len', '1000000000'], '--seq_len'),
    ('jmt-reproduce', ['--dataset', 'biovid', '--max_folds', '1000000'], '--max_folds'),
    ('jmt-extract', ['--backbone', 'visual', '--clip_stride', '0'], '--clip_stride'),
    ('jmt-extract', ['--backbone', 'visual', '--num_workers', '100000'], '--num_workers'),
])
def test_huge_and_tiny_numbers_are_refused(tmp_path, name, args, flag):
    "Finding: `--seq_len 1e9` failed in the memory allocator; every number has a sane range, checked before any work."
    _usage(_cmd(tmp_path, name, '--data', tmp_path / 'data', *args, *(['--out_dir', tmp_path / 'out'] if name != 'jmt-extract' else [])),
           f'{flag} must be an integer in ')
    _nothing_made(tmp_path)


@pytest.mark.parametrize('args,msg', [
    (['--on_error', 'ignore'], "--on_error must be one of 'raise', 'skip', got 'ignore'"),
    (['--dataset', 'recola'], "--dataset must be one of"),
    (['--test_sample', 'x.csv', '--dataset', 'biovid'], '--test_sample must be left out for --dataset biovid'),
])
def test_prepare_usage_error_leaves_no_link(tmp_path, raw, args, msg):
    "Finding: a usage error of `jmt-prepare` left a DATA/raw link behind."
    _usage(_cmd(tmp_path, 'jmt-prepare', '--data', tmp_path / 'data', '--raw', raw, *args), msg)
    _nothing_made(tmp_path)


def test_prepare_that_fails_takes_its_link_back(tmp_path, raw):
    "A first `jmt-prepare` that fails in the preparation itself (here: an empty raw folder) removes the link and folders it made..."
    r = _cmd(tmp_path, 'jmt-prepare', '--data', tmp_path / 'data', '--raw', raw)
    assert r.returncode == 1 and r.stderr.startswith('error: '), r.stderr[-2000:]
    _nothing_made(tmp_path)
    (tmp_path / 'data').mkdir(); (tmp_path / 'data' / 'raw').symlink_to(raw)  # ...but not a link that was there before
    r = _cmd(tmp_path, 'jmt-prepare', '--data', tmp_path / 'data')
    assert r.returncode == 1 and (tmp_path / 'data' / 'raw').is_symlink(), r.stderr[-2000:]


@pytest.mark.parametrize('script,args,msg', [
    ('prepare_affwild2.py', ['--sr', '10000000'], '--sr must be an integer in 8000..192000'),
    ('prepare_biovid.py', ['--size', '0', '--synthetic'], '--size must be an integer in 8..1024, got 0'),
    ('prepare_biovid.py', ['--n_subjects', '1000000', '--synthetic'], '--n_subjects must be an integer in 1..1000'),
    ('prepare_biovid.py', ['--channels', 'gsr,eeg', '--synthetic'], "--channels must be one of 'gsr', 'ecg', 'emg_trapezius', got 'eeg'"),
    ('prepare_biovid.py', ['--t1', '9', '--synthetic'], '--t1 must be a finite number > 2.0 and <= 5.5, got 9.0'),
])
def test_data_script_arguments_fail_before_the_synthetic_set(tmp_path, raw, script, args, msg):
    "prepare_*.py --synthetic wrote the synthetic set before the preparation checked its arguments."
    _usage(_script(tmp_path, script, '--raw', raw / 'new', '--out', tmp_path / 'out', *args), msg)
    _nothing_made(tmp_path)


def test_every_numeric_flag_has_a_range():
    "Every int/float option of every command line has a range in BOUNDS (t0/t1 are checked against each other)."
    from jmt.cli import extract, predict, prepare, reproduce, scripts, train
    from jmt.cli.core import BOUNDS
    cmds = [train.train, prepare.prepare, extract.extract, predict.predict, reproduce.main, scripts.prepare_affwild2_main, scripts.prepare_biovid_main,
            scripts.extract_features_main, scripts.train_backbone_main]
    missing = [(f.__name__, n) for f in cmds for n, p in inspect.signature(f.__wrapped__).parameters.items()
               if p.annotation in ('int', 'float', int, float) and n not in BOUNDS and n not in ('t0', 't1')]
    assert missing == []
    assert all(getattr(f, 'check', None) for f in cmds)  # each checks its arguments right after parsing
