"""The library notebooks are committed executed (`tools/run_notebooks.py`): a reader on GitHub or in JupyterLab sees every
figure without running anything. Their outputs are clean: no stderr, no widget-only output, no temporary paths or
tracebacks, small pictures. The papermill notebooks (train, reproductions, index) are not library notebooks."""
import base64, json, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools'))
from run_notebooks import keep, library_notebooks, problems  # noqa: E402

NBS = library_notebooks()
DRAWS = ('plt.show()', 'plt.subplots(', '.savefig(', 'show_', 'plot_', '_viewer(')  # a cell that draws something


def _nb(p):
    import nbformat
    return nbformat.read(p, as_version=4)


def _drawing_cells(nb):
    return [c for c in nb.cells if c.cell_type == 'code' and not c.source.lstrip().startswith('#| export')
            and any(d in c.source for d in DRAWS) and 'IN_TEST' not in c.source.split('\n', 1)[0]]


@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_committed_with_its_pictures(nb):
    n = _nb(nb)
    draws = _drawing_cells(n)
    pngs = sum('image/png' in o.get('data', {}) for c in n.cells if c.cell_type == 'code' for o in c.outputs)
    if draws: assert pngs, f'{nb.name}: {len(draws)} cells draw a figure but no picture is committed: run python tools/run_notebooks.py {nb.relative_to(ROOT)}'


@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_outputs_are_clean(nb):
    n = _nb(nb)
    assert not problems(n), problems(n)
    for i, c in enumerate(n.cells):
        if c.cell_type != 'code': continue
        assert c.get('execution_count') is None, f'{nb.name} cell {i}: execution count (run nbdev_clean)'
        for o in c.outputs:
            assert keep(o), f'{nb.name} cell {i}: stderr or widget-only output is not committed: {str(o)[:200]}'
    size = sum(len(base64.b64decode(o['data']['image/png'])) for c in n.cells if c.cell_type == 'code'
               for o in c.outputs if 'image/png' in o.get('data', {}))
    assert size < 1_500_000, f'{nb.name}: {size/1e6:.1f} MB of pictures; draw them smaller'
