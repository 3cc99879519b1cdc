"""settings.ini and requirements.lock agree: the lock pins every requirement (runtime and dev) at a version settings.ini
allows, and torch, torchvision and torchaudio are pinned exactly, as one set, to the lock's versions. Fast, no network."""
import importlib, sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tools'))
lock = importlib.import_module('lock')
TRIO = ('torch', 'torchvision', 'torchaudio')


def mismatches(reqs: list[str], pins: dict) -> list[str]:
    "What is wrong between settings.ini's requirements `reqs` and the lock's `pins` (empty when they agree)."
    out = []
    for r in map(Requirement, reqs):
        name = lock.norm(r.name)
        if name not in pins: out.append(f'{r.name} is in settings.ini but not in requirements.lock: run `make lock`'); continue
        for v in pins[name][0].split('|'):
            if not r.specifier.contains(v, prereleases=True):
                out.append(f'requirements.lock has {r.name}=={v}, outside settings.ini\'s {r}: run `make lock`')
        if name in TRIO:
            spec = [s for s in r.specifier if s.operator in ('==', '===')]
            if len(spec) != 1 or '*' in spec[0].version or len(r.specifier) != 1:
                out.append(f'settings.ini must pin {r.name} exactly (==X.Y.Z), as a set with {"/".join(TRIO)}: it says {r}')
            elif spec[0].version != pins[name][0]:
                out.append(f'settings.ini pins {r} but requirements.lock has {r.name}=={pins[name][0]}: move them together')
    missing = [t for t in TRIO if t not in {lock.norm(Requirement(r).name) for r in reqs}]
    out += [f'settings.ini does not name {t}' for t in missing]
    return out


def test_settings_and_lock_agree():
    assert mismatches(lock.settings_requirements(), lock.read_lock()) == []


def test_lock_is_universal_and_made_by_make_lock():
    text = lock.LOCK.read_text(encoding='utf-8')
    assert 'make lock' in text.splitlines()[1], 'requirements.lock was not written by `make lock` (tools/lock.py)'
    assert "sys_platform == 'linux'" in text and "sys_platform == 'win32'" in text, 'the lock must be universal (uv --universal)'


def test_mismatches_catches_each_disagreement():
    pins = {'torch': ('2.11.0', ''), 'torchvision': ('0.26.0', ''), 'torchaudio': ('2.11.0', ''), 'numpy': ('2.4.6', '')}
    good = ['torch==2.11.0', 'torchvision==0.26.0', 'torchaudio==2.11.0', 'numpy']
    assert mismatches(good, pins) == []
    # the range that let torchaudio 2.11.1 in beside torch 2.11.0
    assert any('pin torchaudio exactly' in m for m in mismatches(good[:2] + ['torchaudio==2.11.*', 'numpy'], pins))
    assert any('requirements.lock has torch==2.11.0' in m for m in mismatches(['torch==2.12.0'] + good[1:], pins))
    assert any('not in requirements.lock' in m for m in mismatches(good + ['av'], pins))
    assert any('outside settings.ini' in m for m in mismatches(good[:3] + ['numpy<2'], pins))
    assert any('does not name torchaudio' in m for m in mismatches(good[:2] + ['numpy'], pins))


def test_read_lock_refuses_a_line_it_cannot_read(tmp_path):
    (tmp_path/'x.lock').write_text('torch>=2.11\n')
    with pytest.raises(ValueError, match='make lock'): lock.read_lock(tmp_path/'x.lock')


def test_install_and_ci_use_the_lock_in_a_new_venv():
    "make install installs under the lock's constraints; .ci/run builds a new venv (no system packages) and smoke-tests it."
    mk = (ROOT/'Makefile').read_text()
    install = mk.split('\ninstall:', 1)[1].split('\n\n', 1)[0]
    assert '-c requirements.lock' in install and '-e ".[dev]"' in install, install
    ci = (ROOT/'.ci'/'run').read_text()
    assert '-m venv "$VENV"' in ci and 'system-site-packages' not in ci, 'CI must build its environment from nothing'
    assert 'make install PY="$PY"' in ci and 'tools/smoke.py' in ci and 'make test PY="$PY"' in ci
    code = '\n'.join(l for l in ci.splitlines() if not l.lstrip().startswith('#'))
    assert code.index('make install') < code.index('tools/smoke.py') < code.index('make test PY')
