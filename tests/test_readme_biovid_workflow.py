"""The BioVid lines of the README's "On the real datasets" block, run as written on a tiny synthetic BioVid Part A folder,
then run again: each feature cache is computed exactly once, in the BioVid data folder, and the re-run recomputes nothing."""
import os, re, shlex, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = {'jmt-prepare': 'jmt.cli:prepare', 'jmt-extract': 'jmt.cli:extract', 'jmt-train': 'jmt.cli:train'}


def biovid_lines() -> list[str]:
    "The README block's BioVid commands (and its exports), as written."
    text = (ROOT/'README.md').read_text()
    block = re.search(r'## On the real datasets\s*```bash\n(.*?)```', text, re.S).group(1)
    lines = [l.split('  #')[0].strip() for l in block.splitlines() if l.strip()]
    return [l for l in lines if l.startswith('export ') or 'biovid' in l]


def _shim(tmp: Path, name: str) -> Path:
    "A file that runs a console script's function the way the installed script does."
    mod, fn = SCRIPTS[name].split(':')
    p = tmp/f'{name}.py'
    p.write_text(f'from {mod} import {fn}\nif __name__ == "__main__": {fn}()\n')
    return p


def run_block(tmp: Path, raw: Path, data: Path) -> list[str]:
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore', 'IN_TEST': '1', 'MPLBACKEND': 'Agg',
           'PYTHONPATH': str(ROOT)}
    ran = []
    for line in biovid_lines():
        line = line.replace('/data/jmt_biovid', str(data)).replace('/data/biovid', str(raw)).replace('/data/jmt', str(tmp/'jmt_data'))
        if line.startswith('export '):
            k, v = line[len('export '):].split('=', 1); env[k] = v; continue
        args = [a.replace('$JMT_DATA', env['JMT_DATA']) for a in shlex.split(line)]
        ran.append(args[0]); t = time.time()
        if args[0] in SCRIPTS:
            args = [sys.executable, str(_shim(tmp, args[0])), *args[1:]]
            if '--weights' in args: args[args.index('--weights') + 1] = 'random'  # offline: no published weights to fetch
        elif args[0] == 'papermill':
            args = [sys.executable, '-m', 'papermill', '--no-progress-bar', str(ROOT/args[1]), str(tmp/Path(args[2]).name), *args[3:]]
        r = subprocess.run(args, cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f'{line}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}'
        print(f'{time.time() - t:5.1f} s  {ran[-1]}')
    return ran


def test_readme_biovid_block(tmp_path):
    from jmt.data.biovid_synthetic import write_synthetic_biovid
    raw, data = tmp_path/'biovid_raw', tmp_path/'biovid_data'
    write_synthetic_biovid(raw, n_subjects=3, n_per_class=1, seed=0)
    ran = run_block(tmp_path, raw, data)
    assert len(ran) >= 5 and 'papermill' in ran, ran  # prepare, 2 extracts, train, the reproduction
    assert (data/'raw').resolve() == raw.resolve() and (data/'prepared'/'index.json').is_file()
    caches = sorted(p.parent.relative_to(data) for p in data.rglob('features/*/*/index.json'))
    assert [str(c) for c in caches] == ['features/img64_clips4/bio', 'features/img64_clips4/visual'], caches
    assert not [p for p in tmp_path.rglob('index.json') if 'features' in p.parts and data not in p.parents]  # no second copy
    assert not [p for p in tmp_path.rglob('prepared/index.json') if data not in p.parents]  # nor a second preparation
    stamp = lambda: {p: p.read_bytes() if p.suffix == '.json' else p.stat().st_mtime_ns for p in data.rglob('*') if p.is_file()}
    runs = lambda: {p: p.stat().st_mtime_ns for p in tmp_path.glob('runs/**/results.json')}
    before, done = stamp(), runs()
    assert done  # jmt-train and the reproduction trained
    run_block(tmp_path, raw, data)
    assert stamp() == before  # nothing in the data folder was computed again
    assert runs() == done  # finished training runs are reused
