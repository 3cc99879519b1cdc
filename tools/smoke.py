"""Smoke test of an installed environment: does what `make install` put there load together?

Checks, in order: torch imports; torchvision and torchaudio load with it (a torchvision op, and one log-mel through
torchaudio with jmt's own `log_mel`); every `jmt` module imports; every console script in settings.ini answers `--help`;
`pip check` finds every declared requirement met.
Each failure prints ONE line naming the package or the pair at fault; exit 1 if any. Run by `.ci/run` and
`make check-latest` with the environment's python: `python tools/smoke.py`.
"""
import configparser, importlib, os, pkgutil, shutil, subprocess, sys, time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def version(pkg: str) -> str:
    "Installed version of `pkg`, or 'not installed'."
    try: return metadata.version(pkg)
    except metadata.PackageNotFoundError: return 'not installed'


def reason(e: BaseException) -> str:
    "The exception as one short line, with the innermost cause (e.g. the undefined symbol of a library that did not load)."
    def one(x): return (str(x).strip().splitlines() or [''])[-1][:200]
    root = e
    while (root.__cause__ or root.__context__) is not None: root = root.__cause__ or root.__context__
    return f'{type(e).__name__}: {one(e)}' + (f' <- {type(root).__name__}: {one(root)}' if root is not e else '')


def check_torch_family() -> list[str]:
    "torch imports, and torchvision and torchaudio (with jmt's log-mel) load with it; one line per broken pair."
    tv = version('torch')
    try: import torch
    except Exception as e: return [f'torch {tv} does not import ({reason(e)}): reinstall from requirements.lock']
    fails = []
    try:
        import torchvision
        torchvision.ops.nms(torch.tensor([[0., 0., 1., 1.]]), torch.tensor([1.]), 0.5)  # needs torchvision's compiled ops
    except Exception as e:
        fails.append(f"torchvision {version('torchvision')} does not load with torch {tv} ({reason(e)}): "
                     'pin them as a pair in settings.ini and the lock')
    try:
        import numpy as np, torchaudio  # noqa: F401
        from jmt.data.decode import log_mel
        m = log_mel(np.random.default_rng(0).standard_normal(44100).astype(np.float32))
        assert m.ndim == 2 and torch.isfinite(m).all(), f'log_mel gave {tuple(m.shape)}, finite={bool(torch.isfinite(m).all())}'
    except Exception as e:
        fails.append(f"torchaudio {version('torchaudio')} does not load with torch {tv} ({reason(e)}): "
                     'pin them as a pair in settings.ini and the lock')
    return fails


def check_modules() -> list[str]:
    "Every module of the jmt package imports; one line per module that does not."
    import jmt
    fails = []
    for m in pkgutil.walk_packages(jmt.__path__, 'jmt.'):
        try: importlib.import_module(m.name)
        except ModuleNotFoundError as e:
            fails.append(f'{m.name} does not import: package {e.name!r} is missing; install from requirements.lock (make install)')
        except Exception as e: fails.append(f'{m.name} does not import ({reason(e)})')
    return fails


def console_scripts() -> list[str]:
    "Names of the console scripts settings.ini declares."
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini', encoding='utf-8')
    return [s.split('=')[0] for s in cfg['DEFAULT'].get('console_scripts', '').split()]


def check_scripts() -> list[str]:
    "Each console script, from this environment's bin folder, answers `--help` with a usage line."
    bindir = Path(sys.executable).parent
    fails = []
    for s in console_scripts():
        exe = bindir/s if (bindir/s).exists() else shutil.which(s)
        if not exe: fails.append(f'{s}: not installed next to {sys.executable}; run `make install` with this python'); continue
        try: r = subprocess.run([str(exe), '--help'], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired: fails.append(f'{s} --help did not answer within 300 s'); continue
        if r.returncode or 'usage' not in r.stdout.lower():
            last = (r.stderr.strip().splitlines() or r.stdout.strip().splitlines() or [''])[-1][:200]
            fails.append(f'{s} --help failed (exit {r.returncode}): {last}')
    return fails


def check_metadata() -> list[str]:
    "`pip check`: every installed package's declared requirements are met; one line per unmet one."
    r = subprocess.run([sys.executable, '-m', 'pip', 'check'], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if r.returncode == 0 or 'No module named pip' in r.stderr: return []
    return [f'pip check: {l.strip()}' for l in r.stdout.strip().splitlines() if l.strip()]


def main() -> int:
    t0 = time.time()
    print(f'smoke: python {sys.version.split()[0]} at {sys.executable}; torch {version("torch")}, '
          f'torchvision {version("torchvision")}, torchaudio {version("torchaudio")}', flush=True)
    fails = check_torch_family()
    if not fails: fails = check_modules()  # a broken torch family breaks most modules: report the cause, not 30 effects
    if not fails: fails = check_scripts()
    fails += check_metadata()
    for f in fails: print('SMOKE FAIL: ' + f, file=sys.stderr)
    print(f'smoke: {"FAILED" if fails else "ok"} in {time.time() - t0:.0f} s', flush=True)
    return 1 if fails else 0


if __name__ == '__main__':
    os.environ.setdefault('MPLBACKEND', 'Agg')
    sys.exit(main())
