"""The library notebooks are committed executed (`tools/run_notebooks.py`): a reader on GitHub or in JupyterLab sees every
figure without running anything. Their outputs are clean: no stderr, no widget-only output, no temporary paths or
tracebacks, small pictures. The papermill notebooks (train, reproductions, index) are not library notebooks."""
import base64, json, re, sys
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


def _jmt_modules() -> set[str]:
    "Every module path of the package, from its files (`jmt.learn.metrics`, `jmt.learn`, `jmt`)."
    mods = {'.'.join(p.relative_to(ROOT).with_suffix('').parts) for p in (ROOT/'jmt').rglob('*.py')}
    return {m.removesuffix('.__init__') for m in mods}


NAMED = re.compile(r'(?<![\w./])(jmt(?:\.[A-Za-z_][\w]*)+)(?![\w/])')  # a dotted jmt name, not a format id such as 'jmt.learner/1'
NB_NAMED = re.compile(r'(?<![\w./])(\d\d_[a-z][a-z0-9_.]*[a-z0-9])')  # a notebook named by its stem, e.g. 40_learn.metrics


def stale_names(text:str, modules:set[str], stems:set[str]) -> list[str]:
    "The module paths and notebook names in `text` that no longer exist (an output committed before a rename)."
    bad = []
    for m in NAMED.finditer(text):
        parts = m.group(1).split('.')
        if not any('.'.join(parts[:k]) in modules for k in range(2, len(parts) + 1)) and not parts[1].startswith('__'): bad.append(m.group(1))
    bad += [n for n in NB_NAMED.findall(text) if not any(s == n or s.startswith(n + '.') or s.startswith(n + '_') for s in stems)]
    return bad


def test_stale_names_are_found():
    mods, stems = {'jmt', 'jmt.learn', 'jmt.learn.metrics'}, {'40_learn.metrics'}
    test = 'see `jmt.learn.metrics.ccc` (40_learn.metrics), jmt.__version__ and the format jmt.learner/1'
    assert stale_names(test, mods, stems) == []
    assert stale_names('`jmt.ccc.ccc` on the 22_ccc example', mods, stems) == ['jmt.ccc.ccc', '22_ccc']


MODULES, STEMS = _jmt_modules(), {p.stem for p in (ROOT/'nbs').glob('*.ipynb')}  # once, for every notebook below


@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_outputs_name_what_exists(nb):
    "A committed output names only modules and notebooks that exist: one that names a renamed one predates the rename."
    n = json.loads(nb.read_text())
    out = json.dumps([c.get('outputs', []) for c in n['cells']])
    bad = stale_names(out, MODULES, STEMS)
    assert not bad, f'{nb.name}: its outputs name {sorted(set(bad))}, which no longer exist: run python tools/run_notebooks.py {nb.relative_to(ROOT)}'
