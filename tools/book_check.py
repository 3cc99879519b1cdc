"""What issue 22 asks of every library notebook, measured: exported cells over the size limit, notebooks committed
without any output, notebooks that draw without a committed picture, a missing H1 or one-line summary.

    python tools/book_check.py               # every library notebook; exit 1 when something fails
    python tools/book_check.py nbs/21_*.ipynb --limit 30
"""
import argparse, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CELL_LIMIT = 40  # lines of one exported cell, directive lines included
DRAW = re.compile(r'plt\.|\.plot\(|show_|plot_|_viewer\(|draw_|imshow|savefig')


def library_notebooks() -> list[Path]:
    return sorted((ROOT/'nbs').glob('[0-9][0-9]_*.ipynb'))


def src(c) -> str: return ''.join(c['source']) if isinstance(c['source'], list) else c['source']


def report(p:Path, limit:int=CELL_LIMIT) -> list[str]:
    nb = json.loads(p.read_text())
    cells, out = nb['cells'], []
    for i, c in enumerate(cells):
        s = src(c)
        if c['cell_type'] == 'code' and s.lstrip().startswith(('#| export', '#|export')):
            n = len(s.rstrip('\n').split('\n'))
            if n > limit: out.append(f'{p.name} cell {i}: exported cell of {n} lines (limit {limit})')
    code = [c for c in cells if c['cell_type'] == 'code']
    if not any(c.get('outputs') for c in code): out.append(f'{p.name}: committed without any output')
    draws = [c for c in code if DRAW.search(src(c)) and not src(c).lstrip().startswith('#| export')]
    pngs = sum('image/png' in o.get('data', {}) for c in code for o in c.get('outputs', []))
    if draws and not pngs: out.append(f'{p.name}: {len(draws)} cells draw but no picture is committed')
    md = [src(c) for c in cells if c['cell_type'] == 'markdown']
    if not md or not md[0].lstrip().startswith('# '): out.append(f'{p.name}: the first markdown cell is not an H1 title')
    elif not re.search(r'^\s*>\s*\S', md[0], re.M) and not (len(md) > 1 and md[1].lstrip().startswith('>')):
        out.append(f'{p.name}: no one-line summary (> ...) under the title')
    return out


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('nbs', nargs='*')
    ap.add_argument('--limit', type=int, default=CELL_LIMIT)
    a = ap.parse_args()
    paths = [Path(x) for x in a.nbs] or library_notebooks()
    bad = [line for p in paths for line in report(p, a.limit)]
    print('\n'.join(bad) or f'ok: {len(paths)} notebooks')
    sys.exit(1 if bad else 0)
