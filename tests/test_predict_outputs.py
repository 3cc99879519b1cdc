"""jmt-predict's inputs and outputs (issue 21 item 4): its outputs are never read back as inputs, videos sharing a stem get
their own outputs, a file given twice is predicted once, and a video counts as done only for the same run and settings."""
import contextlib, io, json, shutil, warnings
from pathlib import Path

from jmt.data.video import write_face_video
from jmt.predict.bundle import load_run
from jmt.predict.outputs import predict_videos
from jmt.predict.outputs import MANIFEST
from test_predict import trained  # noqa: F401  (the module's trained run)


def _predict(*a, **k):
    with contextlib.redirect_stderr(io.StringIO()) as err, warnings.catch_warnings():
        warnings.simplefilter('ignore')
        st = predict_videos(*a, progress=False, **k)
    return st, err.getvalue()


def test_outputs_in_the_input_folder_are_not_inputs(trained, tmp_path):
    v = tmp_path/'v'
    write_face_video(v/'face.mp4', n_frames=12, size=(96, 72), seed=1, motion=False)
    write_face_video(v/'face.mkv', n_frames=12, size=(96, 72), seed=2, motion=False)
    run = load_run(trained['run'], 'cpu')
    st, _ = _predict([v, v/'face.mp4', str(v/'face.mp4')], run, v, overlay=True)  # the same file three times: once
    assert list(st.values()) == ['done', 'done'], st
    names = sorted(p.name for p in v.iterdir())
    assert names == ['face.mkv', 'face.mkv.csv', 'face.mkv.overlay.mp4', 'face.mkv.png', 'face.mp4', 'face.mp4.csv',
                     'face.mp4.overlay.mp4', 'face.mp4.png', MANIFEST], names
    before = {p.name: p.stat().st_mtime_ns for p in v.iterdir()}
    st, err = _predict([v], run, v, overlay=True)  # again: nothing new, the overlays are not predicted
    assert list(st.values()) == ['skipped', 'skipped'] and '.overlay.mp4' not in ''.join(st), (st, err)
    assert {p.name: p.stat().st_mtime_ns for p in v.iterdir()} == before
    st, _ = _predict([v/'face.mp4.overlay.mp4'], run, tmp_path/'o')  # even given by name
    assert st == {} or set(st.values()) == {'skipped'}, st
    assert not (tmp_path/'o'/'face.mp4.overlay.csv').exists()


def test_done_only_for_the_same_run_and_settings(trained, tmp_path):
    write_face_video(tmp_path/'a.mp4', n_frames=12, size=(96, 72), seed=1, motion=False)
    run = load_run(trained['run'], 'cpu')
    assert _predict([tmp_path/'a.mp4'], run, tmp_path/'out')[0] == {str(tmp_path/'a.mp4'): 'done'}
    assert _predict([tmp_path/'a.mp4'], trained['run'], tmp_path/'out')[0] == {str(tmp_path/'a.mp4'): 'skipped'}  # same run
    assert _predict([tmp_path/'a.mp4'], run, tmp_path/'out', timing='index')[0] == {str(tmp_path/'a.mp4'): 'done'}  # other settings
    other = tmp_path/'run2'; shutil.copytree(trained['run'], other)
    b = json.loads((other/'predict.json').read_text()); b['postprocess']['windows'] = [5, 5]
    (other/'predict.json').write_text(json.dumps(b))  # another run (here: other post-processing)
    assert _predict([tmp_path/'a.mp4'], other, tmp_path/'out', timing='index')[0] == {str(tmp_path/'a.mp4'): 'done'}
    rec = json.loads((tmp_path/'out'/MANIFEST).read_text())['outputs']['a']
    assert rec['video'] == str((tmp_path/'a.mp4').resolve()) and rec['settings']['timing'] == 'index' and 'a.csv' in rec['files']
