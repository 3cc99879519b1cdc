"""The lock: requirements.lock pins every package `make install` installs, made from settings.ini by `uv pip compile`.

`python tools/lock.py` (`make lock`; `--keep` to move only what settings.ini forces) regenerates it from settings.ini's `requirements` + `dev_requirements` (settings.ini
stays the one source; the lock is never edited by hand). `python tools/lock.py --drift` prints which installed packages
differ from the lock (`make check-latest` uses it). The lock is universal (markers for every OS and Python >= 3.11) and
resolved for Python 3.11, the version CI and the README use.
"""
import argparse, configparser, re, shlex, shutil, subprocess, sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT/'requirements.lock'
PYTHON = '3.11'  # the Python the lock is resolved for (settings.ini's min_python)


def settings_requirements(ini: Path = ROOT/'settings.ini') -> list[str]:
    "settings.ini's `requirements` then `dev_requirements`, as PEP 508 strings (what `pip install -e .[dev]` asks for)."
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ini, encoding='utf-8')
    d = cfg['DEFAULT']
    return shlex.split(d.get('requirements', '')) + shlex.split(d.get('dev_requirements', ''))


def norm(name: str) -> str:
    "PEP 503 normalised project name."
    return re.sub(r'[-_.]+', '-', name).lower()


def read_lock(path: Path = LOCK) -> dict[str, tuple[str, str]]:
    "{normalised name: (version, marker or '')} of every pin in a lock file (`name==version ; marker` lines)."
    out = {}
    for line in path.read_text(encoding='utf-8').splitlines():
        line = line.split('#', 1)[0].strip()
        if not line: continue
        m = re.fullmatch(r'([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)\s*(?:;\s*(.+))?', line)
        if not m: raise ValueError(f'{path.name}: not a `name==version ; marker` line: {line!r}; regenerate it with `make lock`')
        name, ver, marker = m.groups()
        if norm(name) in out: out[norm(name)] = (out[norm(name)][0] + '|' + ver, out[norm(name)][1] + ' | ' + (marker or ''))
        else: out[norm(name)] = (ver, marker or '')
    return out


def compile_lock(out: Path = LOCK, upgrade: bool = True) -> None:
    "Write `out` with `uv pip compile --universal` from settings.ini's requirements (PyPI only, no local indexes)."
    uv = shutil.which('uv')
    cmd = [uv] if uv else [sys.executable, '-m', 'uv']
    if not uv and subprocess.run(cmd + ['--version'], capture_output=True).returncode != 0:
        sys.exit('tools/lock.py: `uv` not found; install it with `pip install uv` (the lock is made by `uv pip compile`)')
    reqs = '\n'.join(settings_requirements()) + '\n'
    args = cmd + ['pip', 'compile', '-', '--universal', '--python-version', PYTHON, '--no-config',
                  '--index-url', 'https://pypi.org/simple', '--custom-compile-command', f'make lock  (uv pip compile --universal --python-version {PYTHON}, from settings.ini)',
            '-o', str(out)]
    if upgrade: args.append('--upgrade')
    r = subprocess.run(args, input=reqs, text=True, cwd=ROOT)
    if r.returncode: sys.exit(f'tools/lock.py: uv pip compile failed (exit {r.returncode}); see its message above')
    print(f'wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out} ({len(read_lock(out))} packages, Python {PYTHON})')


def drift(lock: Path = LOCK) -> list[str]:
    "One line per installed package whose version differs from the lock, or that the lock lacks."
    pins = read_lock(lock)
    lines = []
    for d in sorted(metadata.distributions(), key=lambda d: norm(d.metadata['Name'])):
        name = norm(d.metadata['Name'])
        if name in ('jmt', 'pip', 'setuptools', 'wheel'): continue
        if name not in pins: lines.append(f'{name} {d.version}: not in the lock (new dependency)')
        elif d.version not in pins[name][0].split('|'): lines.append(f'{name}: lock {pins[name][0]} -> {d.version}')
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--drift', action='store_true', help='print the installed packages that differ from the lock')
    ap.add_argument('-o', '--out', type=Path, default=LOCK, help='where to write the lock')
    ap.add_argument('--keep', action='store_true', help="keep the lock's versions where settings.ini still allows them (default: newest)")
    args = ap.parse_args(argv)
    if args.drift:
        lines = drift()
        print('\n'.join(lines) if lines else 'no package moved: the newest allowed versions are the locked ones')
        print(f'{len(lines)} package(s) differ from requirements.lock')
        return 0
    compile_lock(args.out, upgrade=not args.keep)
    return 0


if __name__ == '__main__': sys.exit(main())
