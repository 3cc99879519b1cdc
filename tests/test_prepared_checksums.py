"""Same-size damage to a prepared file is seen (issue 21, item 5): a re-run of the preparation compares every prepared
file's SHA-256 with the one it recorded and redoes the unit, naming it; feature extraction refuses a damaged prepared audio
file before any work."""
import shutil, warnings
from pathlib import Path

import numpy as np
import pytest


def _flip(p:Path):
    "Flip one byte of the array data of a .npy (the header stays valid, the size stays the same)."
    b = bytearray(p.read_bytes()); i = len(b) - 7; b[i] ^= 0x5a; p.write_bytes(bytes(b))


def _redo(fn, *a, **kw):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        res = fn(*a, **kw)
    return res, [str(x.message) for x in w]


def test_affwild2_rerun_redoes_a_flipped_audio_byte(tiny_affwild2_prepared, tmp_path):
    from jmt.data.affwild2.prepare import prepare_affwild2, load_index
    d = tmp_path / 'prepared'; shutil.copytree(tiny_affwild2_prepared, d)
    raw = load_index(d)['raw_root']
    audio = sorted((d / 'audio').glob('*.npy'))[0]; good = audio.read_bytes()
    _flip(audio); assert audio.stat().st_size == len(good) and audio.read_bytes() != good
    res, msgs = _redo(prepare_affwild2, raw, d, progress=False)
    assert res['redone'] == {audio.stem: f'audio/{audio.name} changed (its SHA-256 differs from the one recorded)'}, res['redone']
    assert any(f'redone {audio.stem}: audio/{audio.name} changed' in m for m in msgs), msgs
    assert audio.read_bytes() == good  # repaired
    res, _ = _redo(prepare_affwild2, raw, d, progress=False)
    assert res['redone'] == {}


def test_affwild2_extract_refuses_a_damaged_prepared_audio_file(tiny_affwild2_prepared, tmp_path):
    from jmt.tasks.extract import extract_prepared
    d = tmp_path / 'prepared'; shutil.copytree(tiny_affwild2_prepared, d)
    audio = sorted((d / 'audio').glob('*.npy'))[0]; _flip(audio)
    with pytest.raises(ValueError, match=rf"{audio}: changed since the preparation wrote it \(its SHA-256 differs.*re-run jmt-prepare"):
        extract_prepared(d, 'audio', 'random', tmp_path / 'cache', progress=False)
    assert not (tmp_path / 'cache' / 'audio').exists()  # refused before any work


def test_biovid_rerun_redoes_a_flipped_frames_byte(tiny_biovid_prepared, tmp_path):
    from jmt.data.biovid.prepare import prepare_biovid
    from jmt.data.biovid.datasets import load_index
    d = tmp_path / 'prepared'; shutil.copytree(tiny_biovid_prepared, d)
    raw = tiny_biovid_prepared.parent / 'raw'
    f = sorted((d / 'frames').glob('*.npy'))[0]; good = f.read_bytes(); _flip(f)
    res, msgs = _redo(prepare_biovid, raw, d, size=32, detector=None, progress=False)
    assert res['redone'] == {f.stem: f'frames/{f.name} changed (its SHA-256 differs from the one recorded)'}, res['redone']
    assert f.read_bytes() == good


def test_biovid_extract_refuses_a_damaged_prepared_file(tiny_biovid_prepared, tmp_path):
    from jmt.tasks.extract import extract_prepared
    d = tmp_path / 'prepared'; shutil.copytree(tiny_biovid_prepared, d)
    f = sorted((d / 'signals').glob('*.npy'))[0]; _flip(f)
    with pytest.raises(ValueError, match=rf"{f}: changed since the preparation wrote it \(its SHA-256 differs.*re-run jmt-prepare"):
        extract_prepared(d, 'bio', 'random', tmp_path / 'cache', task='multiclass', n_clips=2, progress=False)
    assert not (tmp_path / 'cache' / 'bio').exists()
