"""The shape of the book (issue 22): the package reads in the order of its notebooks. No import circle, no module that
imports one of a later notebook (imports inside functions included), nothing in the library imports the command
lines, modules of about 350 lines at most, exported cells of 40 lines at most, every library notebook committed with
output and with the pictures it draws, an H1 and a one-line summary on each, and the paper cited by its arXiv id."""
import ast, json, re, sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
from book_check import CELL_LIMIT, library_notebooks, report  # noqa: E402

MODULE_LIMIT = 350  # lines of one generated module
NBS = library_notebooks()


def _modules() -> dict[str, Path]:
    out = {}
    for p in (ROOT/'jmt').rglob('*.py'):
        if p.name == '_modidx.py' or p.name == '__init__.py': continue
        out['jmt.' + '.'.join(p.relative_to(ROOT/'jmt').with_suffix('').parts)] = p
    return out


def _imports(name:str, p:Path, mods:dict) -> set[str]:
    "Every jmt module `name` imports, at the top or inside a function."
    pkg = name.rsplit('.', 1)[0]
    out = set()
    for node in ast.walk(ast.parse(p.read_text())):
        if isinstance(node, ast.ImportFrom):
            m = node.module or ''
            if node.level:
                base = pkg.split('.')[:len(pkg.split('.')) - (node.level - 1)]
                m = '.'.join(base + ([m] if m else []))
            cands = [m] + [f'{m}.{a.name}' for a in node.names]
        elif isinstance(node, ast.Import): cands = [a.name for a in node.names]
        else: continue
        for c in cands:
            while c and c not in mods and '.' in c: c = c.rsplit('.', 1)[0]
            if c in mods and c != name: out.add(c)
    return out


def _order() -> dict[str, int]:
    "Module -> the number of the notebook that exports it."
    out = {}
    for p in NBS:
        m = re.search(r'#\|\s*default_exp\s+([\w.]+)', p.read_text())
        if m: out['jmt.' + m.group(1)] = int(p.name[:2])
    return out


def test_every_module_comes_from_a_numbered_notebook():
    missing = sorted(set(_modules()) - set(_order()))
    assert not missing, f'modules without a numbered notebook: {missing}'


def test_imports_only_run_back_to_earlier_notebooks():
    mods, order = _modules(), _order()
    bad = [f'{a} ({order[a]:02d}) imports {b} ({order[b]:02d})' for a, p in mods.items() for b in _imports(a, p, mods)
           if order[b] >= order[a]]
    assert not bad, 'imports that run up (or sideways) the notebook order:\n' + '\n'.join(sorted(bad))


def test_no_import_circle():
    mods = _modules()
    g = {a: _imports(a, p, mods) for a, p in mods.items()}
    seen, stack, cycles = {}, [], []
    def visit(v):
        seen[v] = 1; stack.append(v)
        for w in g[v]:
            if seen.get(w) == 1: cycles.append(stack[stack.index(w):] + [w])
            elif w not in seen: visit(w)
        seen[v] = 2; stack.pop()
    for v in sorted(g):
        if v not in seen: visit(v)
    assert not cycles, 'import circles: ' + '; '.join(' -> '.join(c) for c in cycles)


def test_the_library_never_imports_the_command_lines():
    mods = _modules()
    bad = [f'{a} imports {b}' for a, p in mods.items() if not a.startswith('jmt.cli.')
           for b in _imports(a, p, mods) if b.startswith('jmt.cli.')]
    assert not bad, bad


def test_modules_stay_small():
    big = {n: len(p.read_text().splitlines()) for n, p in _modules().items()}
    big = {n: k for n, k in big.items() if k > MODULE_LIMIT}
    assert not big, f'modules over {MODULE_LIMIT} lines (split the notebook): {big}'


@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_notebook_reads_as_a_lesson(nb):
    "Exported cells of at most 40 lines, committed output, committed pictures, an H1 and a one-line summary."
    assert CELL_LIMIT == 40
    problems = report(nb)
    assert not problems, '\n'.join(problems)


def test_the_paper_is_cited_by_its_arxiv_id():
    index = json.loads((ROOT/'nbs'/'index.ipynb').read_text())
    text = ''.join(''.join(c['source']) for c in index['cells'] if c['cell_type'] == 'markdown')
    assert '2403.10488' in text and 'Joint Multimodal Transformer for Emotion Recognition in the Wild' in text
    assert '2403.10488' in (ROOT/'README.md').read_text()


def test_run_notebooks_open_without_a_raw_cell():
    for name in ('train', 'affwild2_reproduction', 'biovid_reproduction'):
        nb = json.loads((ROOT/'nbs'/f'{name}.ipynb').read_text())
        assert nb['cells'][0]['cell_type'] != 'raw', f'{name}.ipynb opens with a raw cell'
