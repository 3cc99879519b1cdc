"""Runs whose validation predictions are constant (CCC exactly 0) are reported, not silently tabulated as results."""
import csv, json, warnings
import pytest
import torch
from jmt.tasks.affwild2_train import prepare_affwild2_features, train_affwild2
from jmt.tasks.abaw import results_row
from jmt.data.affwild2.raw import fold_split
from jmt.data.affwild2.prepare import load_index
from jmt.models.registry import make_model


@pytest.fixture(scope='module')
def feats(tmp_path_factory):
    "Tiny synthetic Aff-Wild2 with cached random-init features (person 103 has no audio track)."
    w = tmp_path_factory.mktemp('collapse')
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # random-init backbones on purpose
        return prepare_affwild2_features(w, n_videos=7, n_frames=40, img_size=32, clip_stride=16, progress=False)


def _train(feats, tmp_path, model, **kw):
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        r = train_affwild2(feats['prepared'], feats['cache'], tmp_path, model, epochs=1, lr=1e-2, seq_len=4, quiet=True, **kw)
    return r, [str(w.message) for w in ws if 'degenerate' in str(w.message)]


def _rows(r): return list(csv.DictReader(open(r['run_dir']/'results.csv')))


def test_audio_model_on_a_fold_without_audio_is_reported(feats, tmp_path):
    folds, vids = json.loads((feats['prepared']/'folds.json').read_text()), load_index(feats['prepared'])['videos']
    mute = next(f for f in range(5) if not any(vids[n]['has_audio'] for n in fold_split(folds, f)[1]))
    r, msgs = _train(feats, tmp_path, 'unimodal_audio', fold=mute)
    assert abs(r['metrics']['mean']) < 1e-6  # a constant prediction: CCC 0 by definition
    assert r['history'][0]['pred_std_valence'] < 1e-6 and r['history'][0]['pred_std_arousal'] < 1e-6
    assert len(msgs) == 1 and msgs[0].startswith(f'unimodal_audio_release_fold-{mute}_seed-0:') and 'epoch(s) 1 of 1' in msgs[0]
    assert "no 'audio' input" in msgs[0], msgs[0]
    row = _rows(r)[0]
    assert row['degenerate'] == 'True' and float(row['pred_std_valence']) < 1e-6 and row['pred_nonfinite'] == '0.0'


def test_mt_without_audio_is_reported_jmt_is_not(feats, tmp_path):
    rm, msgs = _train(feats, tmp_path, 'mt', drop=['audio', 'frames'])
    assert rm['robustness']['audio']['pred_std_valence'] < 1e-6 and rm['robustness']['none']['pred_std_valence'] > 1e-6
    assert len(msgs) == 1 and msgs[0].startswith('mt_release_fold-official_seed-0:') and "with 'audio' removed" in msgs[0]
    assert "'frames'" not in msgs[0]  # half the faces gone: degraded, not constant
    assert [x['degenerate'] for x in _rows(rm)] == ['False', 'True', 'False']
    assert results_row(rm, 'audio')['degenerate'] and not results_row(rm)['degenerate']
    rj, msgs = _train(feats, tmp_path, 'jmt', drop=['audio'])
    assert not msgs and rj['robustness']['audio']['pred_std_valence'] > 1e-6  # the joint branch keeps a path open


def test_mt_with_a_missing_modality_is_constant_and_finite():
    "The property behind the warning: MT has no path from a single modality to its head; JMT has (no NaN either way)."
    torch.manual_seed(0)
    x = {m: torch.randn(2, 6, 512) for m in ('visual', 'audio')}
    mask = {'visual': torch.ones(2, 6, dtype=torch.bool), 'audio': torch.zeros(2, 6, dtype=torch.bool)}
    with torch.no_grad():
        mt, jmt = make_model('mt').eval()(x, mask), make_model('jmt').eval()(x, mask)
    assert torch.isfinite(mt).all() and torch.isfinite(jmt).all()
    assert (mt - mt[0, 0]).abs().max() == 0 and jmt.std(1).min() > 0


def test_cached_features_are_verified_once_per_run(feats, tmp_path, monkeypatch):
    "train_affwild2 reads and verifies (checksums, finite values) each modality's cache once; predict_affwild2 can reuse them."
    import jmt.features.cache
    from jmt.tasks.abaw import predict_affwild2
    calls, orig = [], jmt.features.cache._verify_modality
    monkeypatch.setattr(jmt.features.cache, '_verify_modality', lambda folder, index: calls.append(folder.name) or orig(folder, index))
    r, _ = _train(feats, tmp_path, 'unimodal_audio')
    assert calls == ['audio'], calls
    assert 'T' not in json.loads((r['run_dir'] / 'config.json').read_text())['config']  # (only models built for one length record it)
    p = predict_affwild2(r['net'], feats['prepared'], feats['cache'], 'val', seq_len=4, mods=('audio',), feats=r['feats'])
    assert calls == ['audio'] and set(p) == set(r['valid_ds'].names)


def test_a_run_on_repaired_features_is_refused_like_another_config(feats, tmp_path, monkeypatch):
    "Features repaired or re-extracted since a run (only features_sha256 differs): refused like other settings (issue 21: a finished run is never lost)."
    import jmt.tasks.affwild2
    kw = dict(epochs=1, lr=1e-2, seq_len=4, quiet=True)
    train_affwild2(feats['prepared'], feats['cache'], tmp_path, 'unimodal_audio', **kw)
    sha = jmt.features.stats.features_sha256
    monkeypatch.setattr(jmt.tasks.affwild2, 'features_sha256', lambda f: 'repaired-' + sha(f))
    with pytest.raises(FileExistsError, match='another configuration .features_sha256.*re-extracted or repaired.*--overwrite'):
        train_affwild2(feats['prepared'], feats['cache'], tmp_path, 'unimodal_audio', **kw)
    with pytest.raises(FileExistsError, match='made with other settings'):
        train_affwild2(feats['prepared'], feats['cache'], tmp_path, 'unimodal_audio', **{**kw, 'lr': 2e-2})
    with pytest.warns(UserWarning, match='redoing the run: it was made with another configuration .features_sha256'):
        train_affwild2(feats['prepared'], feats['cache'], tmp_path, 'unimodal_audio', overwrite=True, **kw)
