"""Names that moved to a new module when a long notebook was split stay importable from their old module (as the same
object), whichever of the two modules is imported first: `jmt.core.moved_names` makes no circular import."""
import importlib, subprocess, sys

import pytest

OLD = ['jmt.core', 'jmt.data.biovid', 'jmt.data.video', 'jmt.features', 'jmt.fusion', 'jmt.predict', 'jmt.train', 'jmt.train_biovid']


@pytest.mark.parametrize('old', OLD)
def test_moved_names_are_the_new_modules_objects(old):
    m = importlib.import_module(old)
    moved = m.__getattr__.moved
    assert moved, old
    for name, new in moved.items():
        assert getattr(m, name) is getattr(importlib.import_module(new), name), (old, name, new)
    with pytest.raises(AttributeError, match='no_such_name'): getattr(m, 'no_such_name')


@pytest.mark.parametrize('old', OLD)
def test_new_module_first_then_old_names(old):
    "In a fresh interpreter: import each new module first, then every moved name from the old one."
    moved = importlib.import_module(old).__getattr__.moved
    code = ''.join(f'import {new}\n' for new in sorted(set(moved.values())))
    code += f"from {old} import {', '.join(sorted(moved))}\nprint('ok')"
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == 'ok', r.stderr[-2000:]
