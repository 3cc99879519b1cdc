"""Every malformed Aff-Wild2 input has its documented error (naming file and line) or fallback."""
import warnings
from pathlib import Path

import pytest
import torch

from jmt.data.affwild2.raw import read_va_labels, scan_affwild2
from jmt.data.affwild2.clips import AffWild2Clips, clip_frames
from jmt.data.affwild2.prepare import prepare_affwild2
from jmt.data.affwild2.synthetic import write_synthetic_affwild2, LABEL_DIR


@pytest.fixture()
def raw(tmp_path):
    write_synthetic_affwild2(tmp_path/'raw', n_videos=7, n_frames=32, seed=5)
    return tmp_path/'raw'


def _label(raw, name='video2'): return raw/LABEL_DIR/'Train_Set'/f'{name}.txt'


@pytest.mark.parametrize('text,msg', [
    ('arousal,valence\n0.1,0.2\n', 'line 1: expected the header'),
    ('', "line 1: expected the header 'valence,arousal', got '(empty file)'"),
    ('valence,arousal\n0.1,0.2\nabc,0.3\n', 'line 3: expected two numbers'),
    ('valence,arousal\n0.1,0.2,0.3\n', 'line 2: expected two numbers'),
    ('valence,arousal\n0.1,0.2\n1.7,0.2\n', 'line 3: value 1.7 is outside [-1, 1]'),
    ('valence,arousal\n0.1,-1.2\n', 'line 2: value -1.2 is outside'),
])
def test_bad_label_file_errors_name_file_and_line(raw, tmp_path, text, msg):
    _label(raw).write_text(text)
    with pytest.raises(ValueError) as e: read_va_labels(_label(raw))
    assert msg in str(e.value) and 'video2.txt' in str(e.value)
    with pytest.raises(ValueError) as e: prepare_affwild2(raw, tmp_path/'prep', progress=False)  # and through preparation
    assert msg in str(e.value) and 'video2.txt' in str(e.value)


def test_minus_five_is_masked_not_zero(tmp_path):
    p = tmp_path/'x.txt'; p.write_text('valence,arousal\n0.5,0.5\n-5,-5\n-5,0.25\n')
    va, m = read_va_labels(p)
    assert m.tolist() == [[True, True], [False, False], [False, True]] and va[2, 1] == .25


def test_missing_label_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.txt'): read_va_labels(tmp_path/'nope.txt')


def test_missing_raw_video_names_the_crop_folder(raw):
    (raw/'batch1'/'video2.avi').unlink()
    with pytest.raises(FileNotFoundError, match=r"no raw video for crop folder 'video2'.*video2\.mp4, video2\.avi"): scan_affwild2(raw)


def test_missing_crop_folder(raw):
    import shutil; shutil.rmtree(raw/'cropped_aligned'/'video2_right')
    with pytest.raises(FileNotFoundError, match='video2_right'): scan_affwild2(raw)


def test_corrupt_jpeg_is_black_frame_masked_and_reported(raw, tmp_path):
    prepare_affwild2(raw, tmp_path/'prep', progress=False)
    ds = AffWild2Clips(tmp_path/'prep', ['video2'], clip_stride=8, img_size=32)
    k = 2; frames = clip_frames(int(ds.ends['video2'][k]))
    victim = next(f for f in frames if (raw/'cropped_aligned'/'video2'/f'{f+1:05d}.jpg').exists())
    (raw/'cropped_aligned'/'video2'/f'{victim+1:05d}.jpg').write_bytes(b'\xff\xd8\xff\xe0 truncated')
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); it = ds[k]
    assert any('corrupt JPEG' in str(o.message) and f'{victim+1:05d}.jpg' in str(o.message) for o in w)
    j = list(frames).index(victim)
    assert not it['frame_mask'][j] and torch.isfinite(it['frames']).all()


def test_video_without_audio_is_silence_and_flag(raw, tmp_path):
    ix = prepare_affwild2(raw, tmp_path/'prep', progress=False)
    assert ix['videos']['103']['has_audio'] is False
    it = AffWild2Clips(tmp_path/'prep', ['103'], clip_stride=8, img_size=32)[0]
    assert it['audio_ok'] is False and it['mel'].shape[:2] == (1, 64) and torch.isfinite(it['mel']).all()
