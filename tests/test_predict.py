"""jmt.predict.bundle end to end: a run trained by `train_affwild2` on tiny synthetic data, its predict bundle, and `jmt-predict`
(`jmt_predict`) on (1) a synthetic validation video with its given crops, which must reproduce the run's own saved
validation predictions; (2) a video of a real face photograph (detection path); (3) bad inputs."""
import json, shutil, warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from jmt.cli.core import run_cli
from jmt.learn.metrics import postprocess_va
from jmt.data.affwild2.prepare import load_index
from jmt.data.video import write_face_video
from jmt.tasks.extract import extract_prepared
from jmt.features.cache import read_index
from jmt.predict.bundle import load_run, training_stats, write_predict_bundle
from jmt.cli.predict import predict as jmt_predict
from jmt.predict.video import predict_video
from jmt.predict.outputs import read_csv
from jmt.features.cache import cache_settings
from jmt.tasks.affwild2_train import train_affwild2
from jmt.tasks.abaw import read_video_predictions


@pytest.fixture(scope='module')
def trained(tiny_affwild2_prepared, tmp_path_factory):
    "A JMT run (1 epoch, standardised features, seq_len 4) on the tiny synthetic set, with its predict bundle (the call training makes)."
    d = tmp_path_factory.mktemp('predict'); prepared, cache = tiny_affwild2_prepared, d / 'cache'
    for m in ('visual', 'audio'):  # seeded random backbones, as extract_features.py does by default
        extract_prepared(prepared, m, 'random', cache=cache, seed=0, clip_stride=8, progress=False, **({'img_size': 32} if m == 'visual' else {}))
    kw = dict(epochs=1, seq_len=4, standardize=True, quiet=True)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        res = train_affwild2(prepared, cache, d / 'runs', 'jmt', **kw)  # writes the predict bundle itself
    return dict(res=res, run=res['run_dir'], index=load_index(prepared), dir=d, cache=cache, kw=kw, prepared=prepared)


def test_training_writes_the_predict_bundle(trained):
    "The bundle `train_affwild2` writes is the one its author's call makes; a re-run of the finished run regains a lost one."
    run, res, cache = trained['run'], trained['res'], trained['cache']
    cfg = json.loads((run / 'predict.json').read_text())
    assert cfg['model'] == dict(name='jmt', kwargs=dict(preset='release', T=4), weights='best.pt', weights_sha256=cfg['model']['weights_sha256'])
    assert cfg['seq_len'] == 4 and cfg['mods'] == ['visual', 'audio'] and cfg['postprocess']['windows'] == [20, 50]
    assert {m: b['init_seed'] for m, b in cfg['backbones'].items()} == {'visual': 0, 'audio': 0} and cfg['standardize'] is not None
    mine = trained['dir'] / 'by_hand'; shutil.copytree(run, mine)
    write_predict_bundle(mine, model_name='jmt', model_kwargs=dict(preset='release', T=4), weights='best.pt',
                         stats=training_stats(res['feats'], res['learner'].train_dl.dataset), clip=cache_settings(cache), seq_len=4,
                         backbones={m: read_index(cache, m) for m in ('visual', 'audio')}, windows=(20, 50))
    for f in ('predict.json', 'predict_stats.npz'): assert (mine / f).read_bytes() == (run / f).read_bytes(), f
    lost = trained['dir'] / 'rerun'; shutil.copytree(run.parent, lost)
    for f in ('predict.json', 'predict_stats.npz'): (lost / run.name / f).unlink()  # a run folder from before the bundle
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        again = train_affwild2(trained['prepared'], cache, lost, 'jmt', **trained['kw'])  # finished: not trained again
    assert again['epochs'] == 1 and (lost / run.name / 'predict.json').read_bytes() == (run / 'predict.json').read_bytes()
    assert load_run(lost / run.name, device='cpu').seq_len == 4


def _cli(*args):
    return run_cli(jmt_predict.__wrapped__, [str(a) for a in args], prog='jmt-predict')


def test_given_crops_reproduce_the_runs_validation_predictions(trained, tmp_path, capsys):
    """The synthetic AVIs carry a two-frame timestamp shift against their audio (the prepared audio is cut by frame number),
    so the audio windows are cut as training cuts them: `--timing index`."""
    idx, run = trained['index'], trained['run']; raw = trained['res']['valid_ds'].index['raw_root']
    for name in trained['res']['valid_ds'].names:
        v = idx['videos'][name]; video, crops = f"{raw}/{v['raw']}", f"{raw}/{v['crops']}"
        ref = read_video_predictions(run / 'predictions' / f'{name}.csv')  # the run's own per-frame validation predictions
        res = predict_video(video, run, crops=crops, device='cpu', timing='index', progress=False)
        assert res['n_frames'] == len(ref) == v['n_frames']
        np.testing.assert_allclose(res['raw'], ref, atol=1e-4, rtol=0)
        # tighter: only the float16 rounding of a feature computed in another batch differs (without the 16-bit PCM audio: ~1e-4)
        np.testing.assert_allclose(res['raw'], ref, atol=2e-5, rtol=0)
        # through the command line: the CSV holds the same predictions, post-processed as the ABAW evaluation
        assert _cli(video, '--run', run, '--out', tmp_path, '--crops', crops, '--timing', 'index', '--device', 'cpu', '--quiet') == 0
        out = read_csv(tmp_path / f'{v["raw"].split("/")[-1].rsplit(".", 1)[0]}.csv')
        pp = postprocess_va(torch.from_numpy(ref), (20, 50)).numpy()
        np.testing.assert_allclose(np.stack([out['valence'], out['arousal']], 1), pp, atol=1e-4, rtol=0)
        assert (out['face'] == [Path(crops, f'{i + 1:05d}.jpg').is_file() for i in range(len(ref))]).all()


def test_detection_path_on_a_real_face(trained, tmp_path, capsys):
    v = write_face_video(tmp_path / 'v' / 'hopper.mp4', n_frames=40, size=(320, 240), seed=3)
    write_face_video(tmp_path / 'v' / 'silent.mkv', n_frames=20, size=(160, 120), audio=False, motion=False)
    assert _cli(tmp_path / 'v', '--run', trained['run'], '--out', tmp_path / 'out', '--overlay', '--device', 'cpu', '--quiet') == 0
    out = read_csv(tmp_path / 'out' / 'hopper.csv')
    assert len(out['frame']) == 40 and out['face'].all() and np.isfinite(out['valence']).all()
    cx, cy = out['x'] + out['w'] / 2, out['y'] + out['h'] / 2  # the crop follows the moving face
    assert np.median(np.hypot(cx - v['centre'][:, 0], cy - v['centre'][:, 1])) < .2 * np.median(v['width'])
    np.testing.assert_allclose(out['time_s'], v['times'], atol=1e-3)
    for f in ('hopper.png', 'hopper.overlay.mp4', 'silent.csv', 'silent.png', 'silent.overlay.mp4'): assert (tmp_path / 'out' / f).stat().st_size > 0
    r = load_run(trained['run'], device='cpu')
    res = predict_video(tmp_path / 'v' / 'silent.mkv', r, progress=False)
    assert not res['masks']['audio'].any() and res['masks']['visual'].all()  # no audio track: audio masked as in training
    capsys.readouterr()
    assert _cli(tmp_path / 'v', '--run', trained['run'], '--out', tmp_path / 'out', '--overlay', '--quiet') == 0
    assert '2 skipped' in capsys.readouterr().err  # done videos are not predicted again


def test_bad_inputs(trained, tmp_path, capsys):
    v = write_face_video(tmp_path / 'full.mkv', n_frames=60, size=(160, 120), motion=False)
    b = v['path'].read_bytes(); (tmp_path / 'in').mkdir(); (tmp_path / 'in' / 'cut.mkv').write_bytes(b[:len(b) * 6 // 10])
    (tmp_path / 'in' / 'notes.mp4').write_text('not a video')
    write_face_video(tmp_path / 'in' / 'empty.mp4', n_frames=16, size=(160, 120), photo=None)
    assert _cli(tmp_path / 'in', '--run', trained['run'], '--out', tmp_path / 'out', '--quiet', '--device', 'cpu') == 1
    err = capsys.readouterr().err
    assert 'notes.mp4 is not a video' in err and 'Traceback' not in err and err.strip().splitlines()[-1].startswith('error: 1 of 3 videos failed')
    assert 'cut.mkv' in err and 'truncated' in err and 'empty.mp4: no face found' in err
    cut = read_csv(tmp_path / 'out' / 'cut.csv'); assert 0 < len(cut['frame']) < 60  # what decodes is predicted
    empty = read_csv(tmp_path / 'out' / 'empty.csv'); assert not empty['face'].any()  # audio only: still predicted
    assert np.isfinite(empty['valence']).all()
    # a run folder missing a piece: one line naming the file
    broken = tmp_path / 'run'; shutil.copytree(trained['run'], broken); (broken / 'predict_stats.npz').unlink()
    assert _cli(v['path'], '--run', broken, '--out', tmp_path / 'o2', '--quiet') == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and 'predict_stats.npz' in err[0] and not (tmp_path / 'o2').exists()  # and no empty output folder
    (broken / 'best.pt').unlink()
    assert _cli(v['path'], '--run', broken, '--out', tmp_path / 'o2', '--quiet') == 1
    assert 'best.pt' in capsys.readouterr().err


def test_data_script_is_a_thin_cli(tmp_path):
    import subprocess, sys
    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, str(root / 'data_scripts' / 'predict.py'), str(tmp_path / 'my.mp4'), '--run', str(tmp_path / 'run')],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 1 and r.stderr.strip().splitlines() == [f"error: run folder {tmp_path / 'run'} not found"], r.stderr


def test_jmt_predict_command_on_a_trained_run(trained, tmp_path):
    "`train_affwild2` then the `jmt-predict` command (a subprocess): a real face, a video without audio, one without a face."
    import subprocess, sys
    v = tmp_path / 'v'
    write_face_video(v / 'face.mp4', n_frames=24, size=(160, 120), seed=1)
    write_face_video(v / 'mute.mp4', n_frames=16, size=(160, 120), audio=False, motion=False)
    write_face_video(v / 'noface.mp4', n_frames=16, size=(160, 120), photo=None)
    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, str(root / 'data_scripts' / 'predict.py'), str(v), '--run', str(trained['run']), '--out', str(tmp_path / 'out'),
                        '--overlay', '--device', 'cpu', '--quiet'], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0 and 'Traceback' not in r.stderr and 'noface.mp4: no face found' in r.stderr, r.stderr
    for n in ('face', 'mute', 'noface'):
        for suf in ('.csv', '.png', '.overlay.mp4'): assert (tmp_path / 'out' / f'{n}{suf}').stat().st_size > 0, n + suf
    face, mute, noface = (read_csv(tmp_path / 'out' / f'{n}.csv') for n in ('face', 'mute', 'noface'))
    assert len(face['frame']) == 24 and face['face'].all() and np.isfinite(face['valence']).all()
    assert mute['face'].all() and np.isfinite(mute['arousal']).all() and not noface['face'].any()


def test_prepared_features_record_their_init_seed(tmp_path):
    "`prepare_affwild2_features` draws random-init backbones from `seed` and records it, so a run's bundle can rebuild them."
    from jmt.tasks.affwild2_train import prepare_affwild2_features
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        r = prepare_affwild2_features(tmp_path, n_videos=7, n_frames=16, img_size=32, clip_stride=8, visual_weights='random',
                                      audio_weights='random', seed=3, progress=False, device='cpu')
    assert [read_index(r['cache'], m).get('init_seed') for m in ('visual', 'audio')] == [3, 3]
