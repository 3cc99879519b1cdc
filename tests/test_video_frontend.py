"""The video front end (jmt.data.video) on fixtures made on the fly from a real face photograph shipped in a wheel:
the Haar fallback, gaps, a rotated file, variable frame rate, a truncated file, a non-video file, no face."""
import warnings

import numpy as np
import pytest

from jmt.data.affwild2.clips import clip_ends
from jmt.data.decode import audio_window, frame_end_sample, load_audio, log_mel
from jmt.data.faces import FaceDetector, face_crops, video_clips, _yuface
from jmt.data.video import clip_end_sample, probe_video, video_frames, write_face_video

yuface = pytest.mark.skipif(_yuface() is None, reason='yuface is not installed (wheels: CPython 3.11, Linux x86-64 / Windows)')


def _centre_err(rows, truth):
    box = np.array([r['box'] for r in rows])
    return np.linalg.norm(box[:, :2] + box[:, 2:] / 2 - truth['centre'], axis=1) / truth['width']


def test_haar_fallback_follows_a_moving_face(tmp_path):
    v = write_face_video(tmp_path / 'm.mp4', n_frames=40, audio=False)
    rows = list(face_crops(v['path'], detector='haar'))
    assert all(r['face'] for r in rows) and all(r['angle'] == 0 for r in rows)
    assert np.quantile(_centre_err(rows, v), .9) < .25


@yuface
def test_landmarks_level_a_tilted_head(tmp_path):
    v = write_face_video(tmp_path / 't.mp4', n_frames=2, audio=False, motion=False, tilt=20, size=(640, 480))
    r = next(face_crops(v['path'], detector=FaceDetector('yuface', detect_side=None)))
    assert r['face'] and 8 < r['angle'] < 30, r['angle']  # the crop turns the head back towards level


def test_gaps_short_held_long_masked(tmp_path):
    hidden = list(range(10, 16)) + list(range(30, 60))  # 0.2 s (held) and 1 s (> max_gap 0.5 s: no face)
    v = write_face_video(tmp_path / 'g.mp4', n_frames=70, audio=False, motion=False, hidden=hidden)
    face = np.array([r['face'] for r in face_crops(v['path'], detect_every=1)])
    assert face[:30].all() and face[60:].all()
    assert not face[30 + 16:60].any() and face[30:30 + 15].all()  # held up to max_gap, then masked
    crops = list(video_clips(v['path'], clip_stride=8, window=8, detect_every=1))
    c = next(c for c in crops if c['frame'] == 55)
    assert not c['frame_mask'].any() and (c['frames'] == c['frames'][:, :1, :1, :1]).all()  # black frames, normalised


def test_rotated_video_with_audio(tmp_path):
    v = write_face_video(tmp_path / 'r.mov', n_frames=24, rotation=-90, motion=False)
    info = probe_video(v['path'])
    assert (info['rotation'], info['width'], info['height'], info['has_audio']) == (-90, 320, 240, True)
    clips = list(video_clips(v['path'], clip_stride=12))
    assert [c['frame'] for c in clips] == [11, 23] and all(c['frame_mask'].all() and c['audio_ok'] for c in clips)


def test_vfr_audio_follows_timestamps(tmp_path):
    t = np.r_[np.arange(10) / 30, 10 / 30 + .2 + np.arange(10) / 15]  # 30 fps, a 0.2 s pause, then 15 fps
    v = write_face_video(tmp_path / 'v.mkv', n_frames=20, times=t, motion=False)
    fr = list(video_frames(v['path']))
    assert np.allclose([f.time for f in fr], t, atol=1e-3)
    fps, y = probe_video(v['path'])['fps'], load_audio(v['path'], dtype=np.int16)  # the prepared 16-bit audio training reads
    ends = [clip_end_sample(f.index, f.end, fps) for f in fr]
    assert ends[5] == frame_end_sample(5, 30.)  # 0.2 s: where the 30 fps part puts it
    assert ends[15] == int(round(fr[16].time * 44100)) and ends[15] != frame_end_sample(15, fps)  # off the grid: the pts
    clips = list(video_clips(v['path'], clip_stride=10))
    for c in clips:  # the window ending at the clip's last frame by its own timestamp
        f = fr[c['frame']]; e = clip_end_sample(f.index, f.end, fps); w = np.zeros(45599, np.float32)
        src = y[max(e - 45599, 0):min(e, len(y))]; w[max(45599 - e, 0):max(45599 - e, 0) + len(src)] = src; w /= 32768
        assert np.allclose(c['mel'], log_mel(w)[None], atol=1e-5)


def test_truncated_file_yields_what_decodes(tmp_path):
    v = write_face_video(tmp_path / 'full.avi', n_frames=60, motion=False)
    b = v['path'].read_bytes(); cut = tmp_path / 'cut.avi'; cut.write_bytes(b[:len(b) * 6 // 10])
    with pytest.warns(UserWarning, match='cut.avi.*truncated'):
        clips = list(video_clips(cut, clip_stride=16))
    n = sum(len(c['rows']) for c in clips)
    assert 0 < n < 60 and [c['frame'] for c in clips] == clip_ends(n, 16).tolist()


def test_not_a_video(tmp_path):
    (tmp_path / 'a.mp4').write_bytes(b'\x00' * 1000)
    (tmp_path / 'song.wav').write_bytes(b'RIFF')
    for p in ('a.mp4', 'song.wav', 'absent.mkv'):
        with pytest.raises((ValueError, FileNotFoundError), match=p.replace('.', r'\.')):
            next(video_clips(tmp_path / p))


def test_no_face_with_audio(tmp_path):
    v = write_face_video(tmp_path / 'n.mp4', n_frames=20, photo=None)
    with pytest.warns(UserWarning, match='n.mp4: no face'):
        clips = list(video_clips(v['path'], clip_stride=10))
    assert len(clips) == 2 and not any(c['frame_mask'].any() for c in clips) and all(c['audio_ok'] for c in clips)
    y = load_audio(v['path'], dtype=np.int16)
    assert np.allclose(clips[1]['mel'], log_mel(audio_window(y, 19, 30.))[None], atol=1e-5)


def test_index_timing_matches_training_on_a_synthetic_avi(tmp_path):
    "timing='index' cuts audio exactly as AffWild2Clips does, even where an AVI's timestamps are irregular."
    from jmt.data.affwild2.synthetic import synth_audio, write_video
    v = write_face_video(tmp_path / 'src.mp4', n_frames=40, audio=False, motion=False)
    frames = np.stack([f.image for f in video_frames(v['path'])])
    rng = np.random.default_rng(0)
    p = write_video(tmp_path / 'syn.avi', frames, 30, synth_audio(np.zeros(40), np.linspace(-1, 1, 40), rng), 22050)
    y = load_audio(p, dtype=np.int16)  # as prepared (16-bit PCM): video_clips' audio is training's
    clips = list(video_clips(p, clip_stride=16, timing='index'))
    assert [c['frame'] for c in clips] == [15, 31, 39]
    for c in clips: assert np.allclose(c['mel'], log_mel(audio_window(y, c['frame'], 30.))[None], atol=1e-5)
