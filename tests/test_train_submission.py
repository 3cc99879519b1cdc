"""jmt-train end to end on a tiny synthetic set: the ABAW submission has exactly the sample file's rows."""
import subprocess, sys, warnings
from pathlib import Path
import numpy as np
import pytest
from jmt.cli.train import train as main
from jmt.tasks.abaw import write_submission
from jmt.tasks.affwild2_train import train_affwild2 as _TRAIN


def test_cli_submission_matches_sample(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        main(out_dir=str(tmp_path/'out'), work_dir=str(tmp_path/'w'), n_videos=7, n_frames=60, img_size=32, clip_stride=16, seq_len=4, epochs=1,
             model='jmt', submission=True, standardize=True, quiet=True, visual_weights='random', audio_weights='random')
    sample = next((tmp_path/'w'/'raw').glob('*sample*.csv')).read_text().splitlines()
    sub = (tmp_path/'out'/'jmt_release_fold-official_seed-0'/'submission.csv').read_text().splitlines()
    assert [l.split(',')[0] for l in sub] == [l.split(',')[0] for l in sample]
    vals = np.array([[float(x) for x in l.split(',')[1:]] for l in sub[1:]])
    assert np.isfinite(vals).all() and vals.std(0).min() > 0  # real predictions, not the sample's zeros
    preds = sorted((tmp_path/'out'/'jmt_release_fold-official_seed-0'/'predictions').glob('*.csv'))
    assert preds and preds[0].read_text().startswith('image,valence,arousal\n00001.jpg,')


def test_submission_pads_with_last_prediction(tmp_path):
    sample = tmp_path/'s.csv'
    sample.write_text('image_location,valence,arousal\n' + ''.join(f'v_left/{i:05d}.jpg,0,0\n' for i in range(1, 6)))
    with pytest.warns(UserWarning, match='padded'):
        s = write_submission({'v_left': np.array([[.1, .2], [.3, .4], [.5, .6]])}, sample, tmp_path/'sub.csv')
    rows = (tmp_path/'sub.csv').read_text().splitlines()
    assert s['padded'] == 2 and rows[-1] == 'v_left/00005.jpg,0.500000,0.600000' and len(rows) == 6
    with pytest.raises(ValueError, match='line 1'):
        (tmp_path/'bad.csv').write_text('name,v,a\n'); write_submission({}, tmp_path/'bad.csv', tmp_path/'x.csv')


def test_cli_help():
    r = subprocess.run([sys.executable, '-m', 'jmt.cli.train', '--help'], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and '--dataset' in r.stdout and '--submission' in r.stdout


def test_cli_biovid_forwards_the_training_options(tmp_path, monkeypatch):
    "`jmt-train --dataset biovid` passes every training option on to `train_biovid` (--standardize was dropped)."
    import jmt.tasks.biovid_train as tb
    from jmt.cli.train import train
    seen = {}
    monkeypatch.setattr(tb, 'prepare_biovid_features', lambda **kw: dict(prepared=tmp_path/'p', cache=tmp_path/'c'))
    monkeypatch.setattr(tb, 'train_biovid', lambda *a, **kw: seen.update(kw) or dict(accuracy=.5))
    (tmp_path/'raw').mkdir()
    train(dataset='biovid', data=str(tmp_path/'raw'), out_dir=str(tmp_path/'out'), epochs=2, lr=.01, batch_size=4,
            standardize=True, seed=3, quiet=True)
    assert {k: seen[k] for k in ('epochs', 'lr', 'batch_size', 'standardize', 'seed')} == dict(epochs=2, lr=.01, batch_size=4,
                                                                                              standardize=True, seed=3)


def _spy_main(tmp_path, monkeypatch, **kw):
    "Run `jmt-train` (`jmt.cli.train.train`) with preparation and training replaced by recorders; returns what they were given."
    import inspect
    import jmt.tasks.affwild2_train as jt, jmt.tasks.biovid_train as tb
    from jmt.cli.train import train as jmt_train
    seen, sig = {}, inspect.signature(_TRAIN)
    def prep(work, **a): seen['prep'] = a; return dict(raw=tmp_path/'raw', prepared=tmp_path/'p', cache=tmp_path/'c')
    def train(*a, **k):
        seen['train'] = sig.bind(*a, **k).arguments
        return dict(metrics=dict(valence=.5, arousal=.5, mean=.5, mean_pp=.5), run_dir=tmp_path/'run')
    monkeypatch.setattr(tb, 'prepare_biovid_features', lambda **a: seen.update(bprep=a) or dict(prepared=tmp_path/'p', cache=tmp_path/'c'))
    monkeypatch.setattr(tb, 'train_biovid', lambda *a, **k: seen.update(btrain=k, bargs=a) or dict(accuracy=.5))
    monkeypatch.setattr(jt, 'prepare_affwild2_features', prep); monkeypatch.setattr(jt, 'train_affwild2', train)
    monkeypatch.delenv('JMT_DATA', raising=False)
    jmt_train(out_dir=str(tmp_path/'out'), quiet=True, **kw)
    return seen


def test_cli_defaults_are_train_notebooks_preset(tmp_path, monkeypatch):
    "`jmt-train` with no options trains with train.ipynb's synthetic preset (it used the paper's lr/batch and printed CCC 0.001)."
    from jmt.tasks.presets import run_settings
    s, seen = run_settings('affwild2', True), _spy_main(tmp_path, monkeypatch)
    assert {k: seen['prep'][k] for k in ('raw', 'img_size', 'clip_stride', 'n_videos', 'n_frames')} == dict(
        raw=None, img_size=32, clip_stride=8, n_videos=8, n_frames=240)
    t = seen['train']
    assert {k: t[k] for k in ('epochs', 'lr', 'batch_size', 'train_stride', 'standardize')} == dict(
        epochs=s['epochs'], lr=5e-3, batch_size=4, train_stride=2, standardize=True)
    t = _spy_main(tmp_path, monkeypatch, lr=1e-3, standardize=False)['train']  # explicit settings win
    assert (t['lr'], t['standardize'], t['batch_size']) == (1e-3, False, 4)


def test_cli_real_data_gets_the_paper_preset(tmp_path, monkeypatch):
    (tmp_path/'raw').mkdir()
    seen = _spy_main(tmp_path, monkeypatch, dataset='affwild2', data=str(tmp_path/'raw'))
    assert (seen['prep']['img_size'], seen['prep']['clip_stride']) == (112, 1)  # a clip ending at every frame
    t = seen['train']
    assert (t['lr'], t['batch_size'], t['train_stride'], t['standardize'], t['seq_spacing']) == (5e-4, 2, None, False, 32)


def test_cli_synthetic_biovid_gets_its_preset(tmp_path, monkeypatch):
    "With no data, `--dataset biovid` trains on the synthetic BioVid with the notebook's preset (it predicted class 0 everywhere)."
    seen = _spy_main(tmp_path, monkeypatch, dataset='biovid')
    assert seen['bprep']['raw'] is None
    # apart from the Aff-Wild2 data and runs of the same out_dir (it used to fail on the Aff-Wild2 feature cache)
    assert seen['bprep']['work_dir'] == tmp_path/'out'/'data'/'biovid'
    assert seen['bargs'][2] == tmp_path/'out'/'biovid'/'jmt_release_fold-0_seed-0' and seen['btrain']['preset'] == 'release'
    assert {k: seen['btrain'][k] for k in ('lr', 'batch_size', 'standardize', 'epochs')} == dict(lr=1e-2, batch_size=4, standardize=True, epochs=5)


def test_cli_submission_finds_the_sample_in_a_subfolder(tmp_path):
    "`--submission` uses the sample file the preparation recognised, wherever under the raw folder (it globbed the top level only)."
    from jmt.data.affwild2.synthetic import write_synthetic_affwild2, TEST_SAMPLE
    raw = tmp_path/'affwild2'; write_synthetic_affwild2(raw, n_videos=7, n_frames=60)
    (raw/'abaw_test').mkdir(); (raw/TEST_SAMPLE).rename(raw/'abaw_test'/TEST_SAMPLE)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        main(dataset='affwild2', data=str(raw), out_dir=str(tmp_path/'out'), work_dir=str(tmp_path/'w'), img_size=32, clip_stride=16,
             seq_len=4, epochs=1, submission=True, quiet=True, visual_weights='random', audio_weights='random')
    sub = (tmp_path/'out'/'jmt_release_fold-official_seed-0'/'submission.csv').read_text().splitlines()
    assert [l.split(',')[0] for l in sub] == [l.split(',')[0] for l in (raw/'abaw_test'/TEST_SAMPLE).read_text().splitlines()]
