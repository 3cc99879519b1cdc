"""Execute the library notebooks in place so that their committed outputs show every figure and check.

A reader on GitHub or in JupyterLab sees the pictures without running anything. The outputs are kept reproducible:
progress bars and stderr (warnings, tqdm) are dropped, so are widget-only outputs (they render as nothing outside a
live kernel), then `nbdev_clean` strips execution counts and metadata. An output that names a temporary folder or
holds a traceback is an error. `--check` executes into memory and exits 1 when the committed outputs differ (timings aside).

    python tools/run_notebooks.py                   # every nbs/NN_*.ipynb
    python tools/run_notebooks.py nbs/31_models.jmt.ipynb --check
"""
import argparse, copy, os, re, subprocess, sys, tempfile, time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / 'nbs'
WIDGET = 'application/vnd.jupyter.widget-view+json'
BAD = [re.escape(tempfile.gettempdir() + os.sep), r'Traceback \(most recent call last\)', re.escape(str(Path.home()) + os.sep)]


def library_notebooks() -> list[Path]:
    "The library notebooks (`NN_name.ipynb`): the ones that export modules; papermill notebooks keep no outputs."
    return sorted(NBS.glob('[0-9][0-9]_*.ipynb'))


def keep(out: dict) -> bool:
    "An output worth committing: not stderr, not a widget a static view cannot show."
    if out.get('output_type') == 'stream': return out.get('name') == 'stdout'
    data = out.get('data', {})
    return not (WIDGET in data and not ({'image/png', 'text/html', 'text/markdown'} & set(data)))


def problems(nb) -> list[str]:
    "Outputs that leak a machine's paths or hold a traceback."
    bad = []
    for i, c in enumerate(nb.cells):
        for o in c.get('outputs', []):
            text = o.get('text', '') + ''.join(v for k, v in o.get('data', {}).items() if k.startswith('text/') and isinstance(v, str))
            for pat in BAD:
                if re.search(pat, text): bad.append(f'cell {i}: output matches {pat!r}: {text[:200]!r}')
    return bad


def execute(path: Path, timeout: int = 1200):
    "The notebook executed in `nbs/` (outside the test runner), its outputs filtered."
    nb = nbformat.read(path, as_version=4)
    env_before = os.environ.get('MPLBACKEND')
    os.environ.pop('MPLBACKEND', None)  # the kernel's inline backend draws the figures into the outputs
    try: NotebookClient(nb, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(NBS)}}).execute()
    finally:
        if env_before is not None: os.environ['MPLBACKEND'] = env_before
    for c in nb.cells:
        if c.cell_type == 'code': c.outputs = [o for o in c.outputs if keep(o)]
    nb.metadata.pop('widgets', None)  # the state of the dropped widgets (random ids)
    return nb


TIMING = re.compile(r'(\btime[ =:]+)\d+(\.\d+)?|\b\d+(\.\d+)? ?(s|ms|min)\b')


def untimed(text: str) -> str:
    "`text` with its timings masked: the epoch lines' `time 0.13`, `12.3 s` (the only outputs that vary run to run)."
    return TIMING.sub(lambda m: (m.group(1) or '') + '<t>', text)


def clean(path: Path):
    subprocess.run(['nbdev_clean', '--fname', str(path)], check=True, cwd=ROOT)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('notebooks', nargs='*', type=Path, help='default: every library notebook')
    ap.add_argument('--check', action='store_true', help='do not write; exit 1 if the committed outputs differ')
    ap.add_argument('--timeout', type=int, default=1200, help='seconds per cell')
    a = ap.parse_args(argv)
    nbs, rc = [p.resolve() for p in a.notebooks] or library_notebooks(), 0
    for p in nbs:
        t = time.time()
        nb = execute(p, a.timeout)
        if bad := problems(nb):
            print(f'{p.name}: ' + '\n  '.join(['outputs not fit to commit:', *bad])); rc = 1; continue
        if a.check:
            with tempfile.TemporaryDirectory() as d:
                q = Path(d) / p.name; nbformat.write(nb, q); clean(q)
                same = untimed(q.read_text()) == untimed(p.read_text())
            print(f"{p.name}: {'same outputs' if same else 'OUTPUTS DIFFER from the committed ones'} ({time.time() - t:.0f} s)")
            rc |= not same
        else:
            nbformat.write(nb, p); clean(p)
            n = sum(len(c.get('outputs', [])) for c in nb.cells if c.cell_type == 'code')
            print(f'{p.name}: executed, {n} outputs kept ({time.time() - t:.0f} s)')
    return rc


if __name__ == '__main__': sys.exit(main())
