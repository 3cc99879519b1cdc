"""Every library notebook opens (after its `default_exp` cell) with a markdown H1 title `# Title`, not `# # Title`."""
import json
from pathlib import Path

import pytest

NBS = sorted(p for p in (Path(__file__).resolve().parents[1] / 'nbs').glob('[0-9][0-9]_*.ipynb'))


@pytest.mark.parametrize('nb', NBS, ids=[p.stem for p in NBS])
def test_h1_title(nb):
    md = next(c for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'markdown')
    first = ''.join(md['source']).splitlines()[0]
    assert first.startswith('# ') and not first.startswith('# #'), f'{nb.name}: first markdown line {first!r} is not an H1 title "# Title"'
