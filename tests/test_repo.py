"""Repository-level checks: the README is generated from nbs/index.ipynb, and the package imports."""
import importlib, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_in_sync_with_index():
    r = subprocess.run([sys.executable, str(ROOT / 'tools' / 'make_readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_readme_check_detects_drift(tmp_path, monkeypatch):
    sys.path.insert(0, str(ROOT / 'tools'))
    try:
        mr = importlib.import_module('make_readme')
    finally:
        sys.path.pop(0)
    text, _ = mr.render()
    assert text.startswith(mr.HEADER) and '## Quickstart' in text
    monkeypatch.setattr(mr, 'ROOT', tmp_path)
    (tmp_path / 'README.md').write_text(text + 'drift\n')
    assert mr.main(['--check']) == 1


def test_readme_quickstart_has_two_commands_that_exist_in_makefile():
    text = (ROOT / 'README.md').read_text()
    block = text.split('## Quickstart', 1)[1].split('```bash', 1)[1].split('```', 1)[0]
    cmds = [l.split('#')[0].strip() for l in block.strip().splitlines()]
    assert cmds == ['make train', 'make test']
    mk = (ROOT / 'Makefile').read_text()
    assert '\ntrain:' in mk and '\ntest:' in mk


def test_import_stack():
    import jmt, torch, torchvision, torchaudio, av  # noqa: F401
    assert jmt.__version__


def test_every_generated_module_is_tracked_by_git():
    "A .gitignore pattern once hid jmt/data/*.py: every module nbdev exports must be committed."
    r = subprocess.run(['git', 'ls-files', 'jmt'], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0: import pytest; pytest.skip('not a git checkout')
    tracked = set(r.stdout.split())
    on_disk = {str(p.relative_to(ROOT)) for p in (ROOT / 'jmt').rglob('*.py') if '__pycache__' not in p.parts}
    assert on_disk <= tracked, f"generated but not tracked (check .gitignore): {sorted(on_disk - tracked)}"
