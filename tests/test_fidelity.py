"""The fidelity table (jmt.reproduce.fidelity, nbs/72_reproduce.fidelity.ipynb): every row cites the release by file, line and commit,
states what jmt does and what it changes, and names a test that exists (or says there is none yet, or that it is pending)."""
import re
from pathlib import Path

import pytest

from jmt.reproduce.fidelity import FIDELITY, FIELDS, fidelity_markdown

ROOT = Path(__file__).resolve().parents[1]
PENDING = ('no test yet', 'see nbs/... (pending)')


def pinned_problems(pinned:str) -> list[str]:
    "What in a `pinned_by` field names nothing that exists: 'tests/x.py::name' needs the file and its def, 'nbs/x.ipynb' the notebook."
    if pinned in PENDING: return []
    bad = []
    for ref in (s.strip() for s in pinned.split(';')):
        path, _, name = ref.partition('::')
        p = ROOT / path
        if not p.is_file(): bad.append(f'{ref}: no file {path}')
        elif name and not re.search(rf'^def {re.escape(name)}\(', p.read_text(), re.M): bad.append(f'{ref}: no test {name} in {path}')
        elif not name and not path.startswith('nbs/'): bad.append(f'{ref}: name the test (file.py::test_name)')
    return bad


@pytest.mark.parametrize('row', FIDELITY, ids=[r['difference'][:40] for r in FIDELITY])
def test_row_has_every_field_and_cites_the_release(row):
    assert set(row) == set(FIELDS)
    for f in FIELDS: assert row[f].strip() and '|' not in row[f] and '\n' not in row[f], (f, row[f])
    assert re.search(r'\S+\.(?:py|json):\d+', row['release']) and re.search(r'@ [0-9a-f]{7}', row['release']), \
        f"{row['difference']}: cite the release as `path:line @ commit`"
    assert not pinned_problems(row['pinned_by']), pinned_problems(row['pinned_by'])


def test_pinned_check_catches_names_that_do_not_exist():
    assert pinned_problems('tests/test_fidelity.py::test_pinned_check_catches_names_that_do_not_exist') == []
    assert pinned_problems('tests/test_fidelity.py::no_such_test')
    assert pinned_problems('tests/no_such_file.py::test_x')
    assert pinned_problems('nbs/99_nothing.ipynb') and not pinned_problems('nbs/72_reproduce.fidelity.ipynb')


def test_table_has_one_line_per_row():
    lines = fidelity_markdown().strip().splitlines()
    assert len(lines) == 2 + len(FIDELITY) and all(l.count(' | ') == len(FIELDS) - 1 for l in lines[2:])


def test_cached_clips_are_the_release_inputs_unaugmented(tiny_affwild2_prepared):
    "Features are cached from clips as the release feeds them: no crop, flip or colour change, the same on every read."
    import torch
    from jmt.data.affwild2.clips import clip_frames, load_crops, normalize_clip
    from jmt.data.affwild2.prepare import load_index
    from jmt.tasks.extract import clip_dataset_for
    vis = clip_dataset_for(tiny_affwild2_prepared, 'visual')
    a, b = vis[3], vis[3]
    assert vis.augment is None and a['frames'].shape == (3, 8, 112, 112) and torch.equal(a['frames'], b['frames'])
    ix = load_index(tiny_affwild2_prepared); v = ix['videos'][a['video']]
    crops = sorted((vis.raw / v['crops']).iterdir())
    names = {p.name: p for p in crops}
    fr, m = load_crops([names.get(f'{f+1:05d}.jpg', vis.raw / 'absent.jpg') for f in clip_frames(a['frame'])])
    assert torch.equal(a['frames'], normalize_clip(fr, m))  # the frames as read: nothing between the files and the backbone
    aug = clip_dataset_for(tiny_affwild2_prepared, 'visual', train=True)  # the option exists, off by default
    assert not torch.equal(aug[3]['frames'], aug[3]['frames'])
