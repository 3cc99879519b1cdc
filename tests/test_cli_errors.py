"""Command lines: a bad argument or input is one line on stderr (exit 2 for arguments and usage, 1 otherwise), no
traceback unless --debug / JMT_DEBUG=1; files get the user's umask; one writer per output folder (a second process is
refused naming the holder, or waits with --wait; a killed holder's lock is taken over). Every CLI case fails before
any work, so each subprocess costs about one `import jmt`."""
import json, os, signal, subprocess, sys, time
from pathlib import Path

import pytest

from jmt.lock import LOCK_FILE, folder_lock, lock_holder
from jmt.core import ArgumentError
from jmt.cli.core import run_cli

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')])}
SCRIPTS = ROOT / 'data_scripts'

# a stand-in for another jmt process: holds DIR's lock (as `folder_lock` does) for SECONDS (or until a line on stdin), then releases it
HOLDER = f"""
import fcntl, json, os, socket, sys, time
d = sys.argv[1]; os.makedirs(d, exist_ok=True); f = os.path.join(d, {LOCK_FILE!r})
fd = os.open(f, os.O_RDWR | os.O_CREAT); fcntl.flock(fd, fcntl.LOCK_EX)
os.write(fd, json.dumps(dict(pid=os.getpid(), host=socket.gethostname(), command='holder-cmd', since='t0')).encode())
print('locked', flush=True)
sys.stdin.readline() if sys.argv[2] == 'stdin' else time.sleep(float(sys.argv[2]))
os.unlink(f); os.close(fd)
"""


def _run(*cmd, env=None, timeout=120):
    return subprocess.run([sys.executable, *map(str, cmd)], capture_output=True, text=True, timeout=timeout,
                          env={**ENV, **(env or {})}, cwd=ROOT)


def _one_line(r, code, *contains):
    "`r` failed with exit status `code` and exactly one stderr line `error: ...` holding each of `contains`, no traceback."
    assert r.returncode == code, (r.returncode, r.stderr[-2000:])
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and 'Traceback' not in r.stderr, r.stderr[-2000:]
    for c in contains: assert c in lines[0], (c, lines[0])
    return lines[0]


def _holder(folder, seconds):
    p = subprocess.Popen([sys.executable, '-c', HOLDER, str(folder), str(seconds)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == 'locked'
    return p


def test_jmt_train_bad_arguments_fail_at_once(tmp_path):
    r = _run('-m', 'jmt.cli.train', '--out_dir', tmp_path / 'out', '--epochs', '0')
    _one_line(r, 2, '--epochs must be an integer in 1..10000, got 0')
    assert 'validation CCC' not in r.stdout  # no result of an untrained model
    assert not (tmp_path / 'out').exists()  # nothing was prepared or written


@pytest.mark.parametrize('args,msg', [
    (['--epochs', '-1'], '--epochs must be an integer in 1..10000, got -1'),
    (['--device', 'tpu'], "--device must be 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps', got 'tpu'"),
    (['--batch_size', '0'], '--batch_size must be an integer in 1..4096, got 0'),
    (['--lr', '-1'], '--lr must be a finite number > 0 and <= 10, got -1.0'),
    (['--seq_len', '0'], '--seq_len must be an integer in 1..4096, got 0'),
    (['--drop', 'audio,face'], "--drop must be one of 'audio', 'visual', 'frames', got 'face'"),
    (['--fold', '5'], "--fold must be 'official' or an integer in 0..4, got '5'"),
    (['--dataset', 'recola'], "--dataset must be one of 'synthetic', 'affwild2', 'biovid', got 'recola'"),
    (['--epochs', 'x'], "argument --epochs: invalid int value: 'x' (see"),  # argparse's own usage error, in one line
])
def test_jmt_train_argument_errors_in_process(tmp_path, capsys, args, msg):
    from jmt.cli.train import train as main
    assert run_cli(main.__wrapped__, ['--out_dir', str(tmp_path / 'out'), *args]) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and err.startswith('error: ') and msg in err, err
    assert not (tmp_path / 'out').exists()


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    from jmt.cli.train import train as main
    with pytest.raises(ArgumentError, match='epochs must be'): run_cli(main.__wrapped__, ['--epochs', '0', '--debug'])
    monkeypatch.setenv('JMT_DEBUG', '1')
    with pytest.raises(ArgumentError, match='epochs must be'): run_cli(main.__wrapped__, ['--epochs', '0'])


# runs each data script as `python data_scripts/x.py ARGS` would (as __main__), in one process to pay `import torch` once
DRIVER = """
import contextlib, io, json, runpy, sys
out = []
for script, *argv in json.loads(sys.argv[1]):
    sys.argv = [script, *argv]; err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try: runpy.run_path(script, run_name='__main__'); rc = 0
        except SystemExit as e: rc = e.code
    out.append([rc, err.getvalue()])
print(json.dumps(out))
"""


def test_data_scripts_fail_in_one_line(tmp_path):
    m = str(tmp_path / 'nothing')
    runs = [['prepare_affwild2.py', '--raw', m, '--out', str(tmp_path / 'p')], ['prepare_biovid.py', '--raw', m, '--out', str(tmp_path / 'b')],
            ['extract_features.py', '--prepared', m, '--backbone', 'visual'],
            ['train_backbone.py', '--prepared', m, '--backbone', 'audio', '--out', str(tmp_path / 't')],
            ['train_backbone.py', '--prepared', str(tmp_path), '--backbone', 'audio', '--epochs', '0', '--out', str(tmp_path / 't')],
            ['extract_features.py', '--bogus']]
    r = _run('-c', DRIVER, json.dumps([[str(SCRIPTS / a), *b] for a, *b in runs]))
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    for (rc, err), want, msg in zip(res, [1, 1, 1, 1, 2, 2], [m, m, m, m, '--epochs must be an integer in 1..10000, got 0',
                                                              'unrecognized arguments: --bogus']):
        _one_line(subprocess.CompletedProcess([], rc, '', err), want, msg)
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # failed runs leave no empty output folders


def test_files_get_the_users_umask(tmp_path):
    from torch.utils.data import DataLoader
    from jmt.learn.metrics import ccc_loss
    from jmt.data.affwild2.prepare import prepare_affwild2
    from jmt.data.affwild2.synthetic import write_synthetic_affwild2
    from jmt.learn.learner import Learner
    from jmt.learn.callbacks import fit_cbs
    from jmt.data.affwild2.synthetic import SynthSeq, ToyRegressor
    old = os.umask(0o022)
    try:
        write_synthetic_affwild2(tmp_path / 'raw', n_videos=5, n_frames=24, n_val=1, n_test=1)
        prepare_affwild2(tmp_path / 'raw', tmp_path / 'prepared', progress=False)
        Learner(ToyRegressor(), DataLoader(SynthSeq(8), 4), DataLoader(SynthSeq(4, seed=1), 4), ccc_loss, lr=.01,
                path=tmp_path / 'run', cbs=fit_cbs(monitor='valid_loss', mode='min', quiet=True, plot=False)).fit(1)
    finally: os.umask(old)
    files = [p for d in ('prepared', 'run') for p in (tmp_path / d).rglob('*') if p.is_file()]
    assert len(files) > 10 and {p.name for p in files} >= {'index.json', 'folds.json', 'best.pt', 'last.pt', 'history.json'}
    assert {oct(p.stat().st_mode & 0o777) for p in files} == {oct(0o644)}, [(p.name, oct(p.stat().st_mode)) for p in files]


def test_second_writer_is_refused_naming_the_holder(tmp_path):
    h = _holder(tmp_path / 'out', 60)
    try:
        line = _one_line(_run(SCRIPTS / 'prepare_affwild2.py', '--raw', tmp_path / 'raw', '--out', tmp_path / 'out'), 1,
                         f'is in use by pid {h.pid} on', '`holder-cmd`', '--wait')
        assert str(tmp_path / 'out') in line
    finally: h.kill(); h.wait()


def test_two_prepares_on_one_folder_wait_for_each_other(tmp_path):
    from jmt.data.affwild2.synthetic import write_synthetic_affwild2
    write_synthetic_affwild2(tmp_path / 'raw', n_videos=5, n_frames=24, n_val=1, n_test=1)
    h = _holder(tmp_path / 'out', 'stdin')
    cmd = [sys.executable, SCRIPTS / 'prepare_affwild2.py', '--raw', tmp_path / 'raw', '--out', tmp_path / 'out', '--quiet', '--wait']
    errs = [tmp_path / f'err{i}.txt' for i in range(2)]
    ps = [subprocess.Popen(list(map(str, cmd)), stdout=subprocess.DEVNULL, stderr=open(e, 'w'), env=ENV) for e in errs]
    waiting = f'waiting for {str(tmp_path / "out")!r}: it is in use by pid {h.pid}'
    t = time.time()
    while not all(waiting in e.read_text() for e in errs) and time.time() - t < 90: time.sleep(.2)
    h.communicate('go\n')  # both wait for the holder: release the folder
    assert [p.wait(timeout=120) for p in ps] == [0, 0], [e.read_text()[-2000:] for e in errs]
    assert all(waiting in e.read_text() and 'Traceback' not in e.read_text() for e in errs), [e.read_text() for e in errs]
    assert len(json.loads((tmp_path / 'out' / 'index.json').read_text())['videos']) == 7
    assert not list((tmp_path / 'out').rglob('*.tmp')) and not (tmp_path / 'out' / LOCK_FILE).exists()


def test_a_killed_holders_lock_is_taken_over(tmp_path):
    h = _holder(tmp_path / 'out', 60)
    os.kill(h.pid, signal.SIGKILL); h.wait()  # killed: its lock file stays, with its details, but nobody holds it
    assert lock_holder(tmp_path / 'out')['pid'] == h.pid
    t = time.time()
    with pytest.warns(UserWarning, match=f'taking over the lock left by pid {h.pid} on'):
        with folder_lock(tmp_path / 'out'): assert lock_holder(tmp_path / 'out')['pid'] == os.getpid()
    assert time.time() - t < 5 and not (tmp_path / 'out' / LOCK_FILE).exists()


def test_data_script_arguments_are_checked_before_any_work(tmp_path):
    "Every range is checked (the command line's `check`, then the library) before anything is read or built: one line naming the argument, exit 2, nothing written."
    from jmt.data.affwild2.synthetic import write_synthetic_affwild2
    raw = tmp_path / 'raw'; write_synthetic_affwild2(raw, n_videos=5, n_frames=24, n_val=1, n_test=1)
    nowhere, o = str(tmp_path / 'nothing'), str(tmp_path / 'o')
    cases = [(['prepare_affwild2.py', '--raw', str(raw), '--out', o, '--folds', '0'], '--folds must be an integer in 2..100, got 0'),
             (['prepare_affwild2.py', '--raw', str(raw), '--out', o, '--folds', '-3'], '--folds must be an integer in 2..100, got -3'),
             (['prepare_affwild2.py', '--raw', str(raw), '--out', o, '--folds', '1'], '--folds must be an integer in 2..100, got 1'),
             (['prepare_affwild2.py', '--raw', str(raw), '--out', o, '--sr', '0'], '--sr must be an integer in 8000..192000, got 0'),
             (['prepare_biovid.py', '--raw', nowhere, '--out', o, '--k', '1'], '--k must be an integer in 2..100, got 1'),
             (['prepare_biovid.py', '--raw', nowhere, '--out', o, '--workers', '0'], '--workers must be an integer in 1..256, got 0'),
             (['prepare_biovid.py', '--raw', nowhere, '--out', o, '--t1', '9'], '--t1 must be a finite number > 2.0 and <= 5.5, got 9.0'),
             (['extract_features.py', '--prepared', str(tmp_path), '--backbone', 'audio', '--cache', o, '--batch_size', '0'],
              '--batch_size must be an integer in 1..4096, got 0'),
             (['extract_features.py', '--prepared', str(tmp_path), '--backbone', 'visual', '--cache', o, '--pool', 'max'],
              "--pool must be one of 'avg', 'flatten', got 'max'"),
             (['extract_features.py', '--prepared', str(tmp_path), '--backbone', 'face'], "--backbone must be one of 'visual', 'audio', 'bio'"),
             (['prepare_affwild2.py', '--out', o], '--raw must be a folder (usage: prepare_affwild2.py --raw DIR --out DIR), got None'),
             (['prepare_biovid.py', '--raw', nowhere], '--out must be the folder to write (usage: prepare_biovid.py'),
             (['prepare_biovid.py', '--out', o, '--synthetic'], '--raw must be the folder to write the synthetic dataset into')]
    r = _run('-c', DRIVER, json.dumps([[str(SCRIPTS / a), *b] for (a, *b), _ in cases]))
    assert r.returncode == 0, r.stderr[-3000:]
    for (rc, err), (_, msg) in zip(json.loads(r.stdout.strip().splitlines()[-1]), cases):
        _one_line(subprocess.CompletedProcess([], rc, '', err), 2, msg)
    assert sorted(p.name for p in tmp_path.iterdir()) == ['raw']  # nothing prepared, no backbone run, no empty folder


def test_overwrite_keeps_the_folder_locked(tmp_path):
    "An overwrite empties the feature folder but keeps its lock file (the one its writer holds), so no second writer gets in meanwhile."
    import torch
    from jmt.features.backbones import make_backbone
    from jmt.features.cache import extract_features

    class Clips(torch.utils.data.Dataset):  # two videos of two clips, in order, for the cheap bio backbone
        def __len__(self): return 4
        def __getitem__(self, i): return {'video': f'v{i // 2}', 'clip': i % 2, 'signal': torch.zeros(1, 700)}

    folder = tmp_path / 'bio'
    with folder_lock(folder):  # as data_scripts/extract_features.py holds it
        ino = (folder / LOCK_FILE).stat().st_ino
        for s in (0, 1):  # the second run has other settings: with overwrite=True the cache is rebuilt
            torch.manual_seed(s)
            extract_features(Clips(), 'bio', tmp_path, make_backbone('bio', 'random', in_channels=1), {'s': s}, batch_size=4,
                             overwrite=True, progress=False)
        assert (folder / LOCK_FILE).stat().st_ino == ino and lock_holder(folder)['pid'] == os.getpid()
        assert sorted(p.name for p in folder.iterdir()) == sorted([LOCK_FILE, 'index.json', 'v0.npy', 'v1.npy'])
    assert not (folder / LOCK_FILE).exists()  # released as usual


def test_jmt_train_and_prepare_scripts_exclude_each_other(tmp_path):
    "jmt-train's preparation of WORK/prepared takes that folder's lock, the one data_scripts/prepare_*.py --out WORK/prepared holds."
    from jmt.lock import FolderLockedError
    from jmt.tasks.affwild2_train import prepare_affwild2_features
    from jmt.tasks.biovid_train import prepare_biovid_features
    for prep in (lambda w: prepare_affwild2_features(w, raw=tmp_path / 'raw', progress=False),
                 lambda w: prepare_biovid_features(tmp_path / 'raw', w, quiet=True)):
        w = tmp_path / f'w{id(prep)}'
        h = _holder(w / 'prepared', 60)  # a prepare script at work on W/prepared
        try:
            with pytest.raises(FolderLockedError, match=f'is in use by pid {h.pid}'): prep(w)
        finally: h.kill(); h.wait()
