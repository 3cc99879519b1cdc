"""`train_biovid` returns a saved result only for the features it was trained on: re-extracting the features into the same
cache (other backbone weights) is refused for the finished run unless overwrite=True, then trains again; an unchanged cache (a resumed extraction that had nothing to do) does not."""
import json, warnings
import pytest

from jmt.tasks.extract import extract_prepared
from jmt.tasks.biovid_train import train_biovid


def _extract(prepared, cache, seed):
    "The bio features of every window, from a 1-D CNN randomly initialised with `seed` (another seed: other weights)."
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # random init is warned about, on purpose here
        extract_prepared(prepared, 'bio', 'random', cache, task='multiclass', n_clips=2, channels=['gsr'], overwrite=True,
                         progress=False, seed=seed)


def test_reextracted_features_are_trained_on_not_served_a_stale_result(tiny_biovid_prepared, tmp_path):
    prep, cache, run = tiny_biovid_prepared, tmp_path / 'features', tmp_path / 'run'
    fit = lambda out=run, **k: train_biovid(prep, cache, out, model='unimodal_bio', epochs=1, batch_size=8, quiet=True, **k)

    def flag():  # only a returned saved result carries it
        p = run / 'results.json'
        p.write_text(json.dumps({**json.loads(p.read_text()), 'saved': True}))

    _extract(prep, cache, seed=0)
    r1 = fit(); flag()
    assert fit().get('saved') is True  # same features: the saved result
    _extract(prep, cache, seed=0)  # the same extraction again resumes with nothing to do
    assert fit().get('saved') is True
    _extract(prep, cache, seed=1)  # re-extracted into the same folder with other weights
    with pytest.raises(FileExistsError, match='features_sha256'): fit()  # never silently replaced (issue 21), nor served stale
    r2 = fit(overwrite=True)
    assert 'saved' not in r2, 'a result trained on the old features was returned for the re-extracted ones'
    assert r2['config']['features_sha256'] != r1['config']['features_sha256']
    fresh = fit(tmp_path / 'fresh')  # what training on the new features gives
    assert r2['predictions'] == fresh['predictions'] and r2['config'] == fresh['config']
