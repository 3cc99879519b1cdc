"""The README's notebook map (from nbs/index.ipynb) lists every library notebook and its module, in file order, and nothing else."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_notebook_map_matches_the_layout():
    readme = (ROOT/'README.md').read_text(encoding='utf-8')
    rows = re.findall(r'^\| `(\d\d_[^`]+)` \| `([^`]+)` \|', readme, re.M)
    nbs = sorted(p.stem for p in (ROOT/'nbs').glob('[0-9][0-9]_*.ipynb'))
    assert [n for n, _ in rows] == nbs, f'README map rows {[n for n, _ in rows]} != notebooks {nbs}: edit the map in nbs/index.ipynb'
    for nb, mod in rows:
        exp = re.search(r'#\|\s*default_exp\s+([\w.]+)', (ROOT/'nbs'/f'{nb}.ipynb').read_text()).group(1)
        assert mod == f'jmt.{exp}', f'{nb} exports jmt.{exp}, the README map says {mod}'
