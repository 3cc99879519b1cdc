"""A finished run is never replaced without `overwrite` (issue 21 item 2); run folders are byte-identical across identical runs and a
kill-and-resume, except `timings.json` (item 9)."""
import json, warnings
import pytest
from jmt.tasks.affwild2_train import prepare_affwild2_features, train_affwild2
from jmt.learn.events import Callback

KW = dict(epochs=2, lr=1e-2, seq_len=4, quiet=True, patience=None)


@pytest.fixture(scope='module')
def feats(tmp_path_factory):
    "Tiny synthetic Aff-Wild2 with cached random-init features."
    w = tmp_path_factory.mktemp('runsafe')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # random-init backbones on purpose
        return prepare_affwild2_features(w, n_videos=7, n_frames=40, img_size=32, clip_stride=16, progress=False)


def _train(feats, out, model='unimodal_audio', **kw):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return train_affwild2(feats['prepared'], feats['cache'], out, model, **{**KW, **kw})


def _files(run) -> dict:
    "Every file of a run folder (recursively) and its bytes."
    return {str(f.relative_to(run)): f.read_bytes() for f in sorted(run.rglob('*')) if f.is_file()}


def test_refeaturized_run_is_refused_and_left_intact(feats, tmp_path, monkeypatch):
    "Features re-extracted since a finished run: the same command refuses (naming the change and both ways out); nothing changes."
    import jmt.tasks.affwild2
    run = _train(feats, tmp_path)['run_dir']
    before = _files(run)
    assert {'best.pt', 'last.pt', 'results.csv', 'config.json', 'predict.json'} <= set(before)
    sha = jmt.features.stats.features_sha256
    monkeypatch.setattr(jmt.tasks.affwild2, 'features_sha256', lambda f: 'reextracted-' + sha(f))
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # no warning either: an error, before anything is written
        with pytest.raises(FileExistsError) as e: _train(feats, tmp_path)
    msg = str(e.value)
    assert '\n' not in msg and 'features_sha256' in msg and '--overwrite' in msg and '--out_dir' in msg, msg
    assert _files(run) == before  # byte-identical
    with pytest.raises(FileExistsError, match='lr: 0.01 → 0.02'): _train(feats, tmp_path, lr=2e-2)  # other settings too
    assert _files(run) == before
    r = _train(feats, tmp_path, overwrite=True)  # the one way to replace it
    assert json.loads((r['run_dir']/'config.json').read_text())['config']['features_sha256'].startswith('reextracted-')


def test_unfinished_run_on_other_features_is_refused(feats, tmp_path, monkeypatch):
    "A killed run (last.pt, no results) whose features changed is not silently restarted either."
    import jmt.tasks.affwild2
    run = _train(feats, tmp_path)['run_dir']
    for f in ('config.json', 'results.csv', 'results.md'): (run/f).unlink()  # as if killed before its evaluation
    before = _files(run)
    sha = jmt.features.stats.features_sha256
    monkeypatch.setattr(jmt.tasks.affwild2, 'features_sha256', lambda f: 'reextracted-' + sha(f))
    with pytest.raises(FileExistsError, match='features_sha256'): _train(feats, tmp_path)
    assert _files(run) == before


def test_biovid_run_with_other_settings_is_refused(tmp_path):
    "BioVid runs are protected the same way (they used to be redone with a warning)."
    from jmt.tasks.biovid_train import prepare_biovid_features, train_biovid
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        p = prepare_biovid_features(None, tmp_path/'w', n_subjects=2, n_per_class=1, img_size=32, n_clips=2, quiet=True, detector=None)
        kw = dict(model='unimodal_bio', fold=0, epochs=1, batch_size=4, quiet=True)
        train_biovid(p['prepared'], p['cache'], tmp_path/'run', lr=1e-2, **kw)
        before = _files(tmp_path/'run')
        with pytest.raises(FileExistsError, match='lr: 0.01 → 0.02'): train_biovid(p['prepared'], p['cache'], tmp_path/'run', lr=2e-2, **kw)
        assert _files(tmp_path/'run') == before
        train_biovid(p['prepared'], p['cache'], tmp_path/'run', lr=2e-2, overwrite=True, **kw)
        train_biovid(p['prepared'], p['cache'], tmp_path/'run2', lr=2e-2, **kw)  # an identical run: identical bytes, timings apart
    a, b = _files(tmp_path/'run'), _files(tmp_path/'run2')
    a.pop('timings.json'); b.pop('timings.json')
    assert a.keys() == b.keys() and [k for k in a if a[k] != b[k]] == []


class _Kill(Callback):
    "Stop the process's run after the first epoch is checkpointed, as a kill would."
    order = 99
    def after_epoch(self):
        if len(self.learn.history) == 1: raise KeyboardInterrupt


def test_identical_runs_have_identical_folders_but_timings(feats, tmp_path, monkeypatch):
    "Two identical runs, and a killed-and-resumed one, differ only in timings.json."
    a, b = _train(feats, tmp_path/'a', 'jmt')['run_dir'], _train(feats, tmp_path/'b', 'jmt')['run_dir']
    fa, fb = _files(a), _files(b)
    assert 'timings.json' in fa and {'epochs', 'train_s'} <= set(json.loads(fa['timings.json']))
    fa.pop('timings.json'); fb.pop('timings.json')
    assert fa.keys() == fb.keys() and [k for k in fa if fa[k] != fb[k]] == []
    import jmt.learn.callbacks
    orig = jmt.learn.callbacks.fit_cbs
    monkeypatch.setattr(jmt.tasks.core, 'fit_cbs', lambda *a, **k: [*orig(*a, **k), _Kill()])
    with pytest.raises(KeyboardInterrupt): _train(feats, tmp_path/'c', 'jmt')
    monkeypatch.setattr(jmt.tasks.core, 'fit_cbs', orig)
    c = _train(feats, tmp_path/'c', 'jmt')['run_dir']
    fc = _files(c); assert len(json.loads(fc.pop('timings.json'))['epochs']) == 2
    assert fc.keys() == fa.keys() and [k for k in fa if fa[k] != fc[k]] == []
