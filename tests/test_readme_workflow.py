"""The README's "On the real datasets" block, run as written on a small synthetic raw folder, then run again: each
feature cache is computed exactly once, in the data folder, and the second run recomputes nothing."""
import os, re, shlex, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = {'jmt-prepare': 'jmt.cli:prepare', 'jmt-extract': 'jmt.cli:extract', 'jmt-train': 'jmt.cli:train'}


def readme_block() -> list[str]:
    text = (ROOT/'README.md').read_text()
    block = re.search(r'## On the real datasets\s*```bash\n(.*?)```', text, re.S).group(1)
    return [l.split('  #')[0].strip() for l in block.splitlines() if l.strip()]


def _shim(tmp: Path, name: str) -> Path:
    "A file that runs a console script's function the way the installed script does (the env may predate these scripts)."
    mod, fn = SCRIPTS[name].split(':')
    p = tmp/f'{name}.py'
    p.write_text(f'from {mod} import {fn}\nif __name__ == "__main__": {fn}()\n')
    return p


def run_block(tmp: Path, raw: Path, data: Path):
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore', 'IN_TEST': '1', 'MPLBACKEND': 'Agg'}
    for line in readme_block():
        line = line.replace('/data/affwild2', str(raw)).replace('/data/jmt', str(data))
        if line.startswith('export '):
            k, v = line[len('export '):].split('=', 1); env[k] = v; continue
        args = [a.replace('$JMT_DATA', env['JMT_DATA']) for a in shlex.split(line)]
        if 'biovid' in line: continue  # the BioVid step has its own tests
        if args[0] in SCRIPTS:
            args = [sys.executable, str(_shim(tmp, args[0])), *args[1:]]
            if '--weights' in args: args[args.index('--weights') + 1] = 'random'  # offline: no published weights to fetch
        elif args[0] == 'papermill':
            args = [sys.executable, '-m', 'papermill', '--no-progress-bar', str(ROOT/args[1]), str(tmp/Path(args[2]).name), *args[3:]]
        r = subprocess.run(args, cwd=tmp, env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f'{line}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}'


def test_readme_real_data_block(tmp_path):
    from jmt.data.synthetic import write_synthetic_affwild2
    # not tmp_path/'jmt': the commands run in tmp_path, where a folder named jmt would shadow the package (a namespace package)
    raw, data = tmp_path/'affwild2', tmp_path/'jmt_data'
    write_synthetic_affwild2(raw, n_videos=7, n_frames=48)
    run_block(tmp_path, raw, data)
    caches = sorted(p.parent.relative_to(data) for p in data.rglob('features/*/*/index.json'))
    assert [str(c) for c in caches] == ['features/img112_stride32/audio', 'features/img112_stride32/visual'], caches
    assert not [p for p in tmp_path.rglob('index.json') if 'features' in p.parts and data not in p.parents]  # no second copy
    # features, audio and labels are never written again; the indexes a re-run rewrites keep their content
    stamp = lambda: {p: p.read_bytes() if p.suffix == '.json' else p.stat().st_mtime_ns for p in data.rglob('*') if p.is_file()}
    runs = lambda: {p: p.stat().st_mtime_ns for p in tmp_path.glob('runs/**/best.pt')}
    before, best = stamp(), runs()
    assert best  # jmt-train and the reproduction trained
    run_block(tmp_path, raw, data)
    assert stamp() == before  # nothing in the data folder was computed again
    assert runs() == best  # finished training runs are reused
