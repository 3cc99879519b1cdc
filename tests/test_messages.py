"""Errors that name the file and say what it is (issue 21 items 7 and 8): a binary label file, a full disk, a weights file
holding objects other than tensors (refused, without suggesting weights_only=False), an audio-only file, a test list with
one bad line, a missing feature cache (jmt-extract), the lock message (--wait)."""
import errno, os, re
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def test_every_torch_load_goes_through_load_tensors():
    hits = [f'{p.relative_to(ROOT)}:{i}' for p in sorted((ROOT/'jmt').rglob('*.py')) if p.name != '_modidx.py'
            for i, l in enumerate(p.read_text().splitlines(), 1) if re.search(r'\btorch\.load\(', l) and 'def load_tensors' not in l]
    assert hits and all(h.startswith('jmt/core.py:') for h in hits), hits  # only inside jmt.core.load_tensors


class Evil:  # a pickled object: torch.load(weights_only=True) refuses it
    def __reduce__(self): return (print, ('pwned',))


@pytest.mark.parametrize('where', ['backbone', 'checkpoint', 'release'])
def test_a_file_with_objects_is_refused_for_safety(tmp_path, where):
    f = tmp_path/'w.pt'; torch.save({'w': torch.ones(1), 'x': Evil()}, f)
    from jmt.features.backbones import make_backbone
    from jmt.learn.checkpoint import load_checkpoint
    from jmt.models.release import load_release
    call = {'backbone': lambda: make_backbone('audio', f), 'checkpoint': lambda: load_checkpoint(f), 'release': lambda: load_release(f)}[where]
    with pytest.raises(Exception) as e: call()
    msg = str(e.value)
    assert str(f) in msg and 'refused for safety' in msg and 'other than tensors' in msg, msg
    assert 'weights_only=False' not in msg and 'weights_only' not in msg and len(msg) < 400, msg


def test_a_binary_label_file_is_named(tmp_path):
    from jmt.data.affwild2.raw import read_va_labels
    f = tmp_path/'1-30-1280x720.txt'; f.write_bytes(b'\x89PNG\r\n\x1a\n\x00\xff\xfe' * 10)
    with pytest.raises(ValueError, match=re.escape(str(f)) + ': not a text label file'): read_va_labels(f)


def test_a_full_disk_names_the_file_and_folder(tmp_path, monkeypatch):
    from jmt.core import atomic_write, atomic_save, DiskFullError
    def full(fd): raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(os, 'fsync', full)
    for name, write in (('x.pt', lambda p: atomic_save({'w': torch.ones(3)}, p)), ('x.npy', lambda p: _npy(atomic_write, p))):
        p = tmp_path/'sub'/name
        with pytest.raises(DiskFullError) as e: write(p)
        assert str(e.value).startswith(f"disk full: cannot write {str(p)!r} (its folder {str(p.parent)!r} has"), str(e.value)
        assert not list(p.parent.iterdir())  # nothing half-written left behind


def _npy(atomic_write, p):
    with atomic_write(p) as f: np.save(f, np.ones(3))


def test_an_audio_only_file_says_what_it_has(tmp_path):
    import av
    from jmt.data.video import probe_video
    f = tmp_path/'talk.m4a'
    with av.open(str(f), 'w') as c:
        s = c.add_stream('aac', rate=16000)
        fr = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format='fltp', layout='mono'); fr.sample_rate = 16000
        for p in [*s.encode(fr), *s.encode()]: c.mux(p)
    with pytest.raises(ValueError, match='has no video stream .it has only audio streams'): probe_video(f)


def test_a_test_list_with_one_bad_line_names_the_line(tmp_path):
    from jmt.data.affwild2.raw import find_test_files
    f = tmp_path/'list.txt'; f.write_text('1-30-1280x720\n2-30-640x360\nthis is not a name!\n')
    with pytest.raises(ValueError) as e: find_test_files([], set(), set(), test_list=f)
    assert str(e.value).endswith("line 3 is not a person name: 'this is not a name!'; fix or delete that line"), str(e.value)


def test_a_missing_feature_cache_points_to_jmt_extract(tmp_path):
    from jmt.features.cache import load_features
    with pytest.raises(FileNotFoundError, match='jmt-extract --backbone audio'): load_features(tmp_path, 'audio')


def test_the_lock_message_names_the_wait_flag(tmp_path):
    import fcntl
    from jmt.lock import LOCK_FILE, folder_lock
    fd = os.open(tmp_path/LOCK_FILE, os.O_RDWR | os.O_CREAT); fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        with pytest.raises(Exception) as e: folder_lock(tmp_path, wait=False).__enter__()
    finally: os.close(fd)
    assert 'rerun with --wait' in str(e.value) and 'wait=True' not in str(e.value), str(e.value)


def test_a_test_list_found_with_one_bad_line_is_named(tmp_path):
    "Recognised by content, a list with one bad line used to be reported as 'no ABAW test-set list'."
    from jmt.data.affwild2.raw import find_test_files, missing_test_files_note
    f = tmp_path/'Valence_Arousal_test_set_release.txt'; f.write_text('1-30-1280x720\n2-30-640x360\nthis is not a name!\n')
    note = missing_test_files_note(tmp_path, find_test_files([f], {'1-30-1280x720'}, set()))
    assert f"{f} looks like an ABAW test-set list but line 3 is not a person name: 'this is not a name!'" in note, note


def test_prepare_names_the_bad_line_of_the_test_list(tmp_path):
    import warnings
    from jmt.data.affwild2.synthetic import write_synthetic_affwild2
    from jmt.data.affwild2.prepare import prepare_affwild2
    write_synthetic_affwild2(tmp_path/'raw', n_videos=7, n_frames=24)
    lst = [f for f in (tmp_path/'raw').rglob('*.txt') if 'test_set' in f.name.lower()]
    assert len(lst) == 1, lst
    lst[0].write_text(lst[0].read_text() + 'oops, not a name\n')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); prepare_affwild2(tmp_path/'raw', tmp_path/'prepared', progress=False)
    assert any("looks like an ABAW test-set list but line" in str(x.message) and "'oops, not a name'" in str(x.message) for x in w), [str(x.message) for x in w]


def test_a_full_disk_while_writing_an_overlay(tmp_path, monkeypatch):
    import av
    from jmt.core import DiskFullError
    from jmt.data.video import write_face_video
    from jmt.predict.outputs import write_overlay
    v = write_face_video(tmp_path/'v.mp4', n_frames=8, size=(96, 72), motion=False)['path']
    res = dict(n_frames=8, box=np.zeros((8, 4)), face=np.zeros(8, bool), va=np.zeros((8, 2)))
    orig = av.open
    def full(f, mode='r', *a, **k):
        if mode == 'w': raise av.error.OSError(errno.ENOSPC, 'No space left on device')
        return orig(f, mode, *a, **k)
    monkeypatch.setattr(av, 'open', full)
    with pytest.raises(DiskFullError, match=re.escape(f"disk full: cannot write {str(tmp_path/'o'/'v.overlay.mp4')!r}")):
        write_overlay(v, res, tmp_path/'o'/'v.overlay.mp4')
    assert not [p for p in (tmp_path/'o').iterdir()]  # no temporary file left
