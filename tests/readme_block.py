"""Running the README's "On the real datasets" block as written (shared by the Aff-Wild2 and BioVid workflow tests)."""
import os, re, shlex, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = {'jmt-prepare': 'jmt.cli.prepare:prepare', 'jmt-extract': 'jmt.cli.extract:extract', 'jmt-train': 'jmt.cli.train:train'}


def readme_block() -> list[str]:
    "The block's lines, comments stripped."
    text = (ROOT/'README.md').read_text()
    block = re.search(r'## On the real datasets\s*```bash\n(.*?)```', text, re.S).group(1)
    return [l.split('  #')[0].strip() for l in block.splitlines() if l.strip()]


def _shim(tmp: Path, name: str) -> Path:
    "A file that runs a console script's function the way the installed script does (the env may predate these scripts)."
    mod, fn = SCRIPTS[name].split(':')
    p = tmp/f'{name}.py'
    p.write_text(f'from {mod} import {fn}\nif __name__ == "__main__": {fn}()\n')
    return p


def run_lines(tmp: Path, lines: list[str], paths: dict[str, str], env: dict | None = None) -> list[str]:
    "Run `lines` in `tmp` with the README's example paths replaced by `paths` (in order); returns the commands run."
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONWARNINGS': 'ignore', 'IN_TEST': '1', 'MPLBACKEND': 'Agg', **(env or {})}
    ran = []
    for line in lines:
        for k, v in paths.items(): line = line.replace(k, v)
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
