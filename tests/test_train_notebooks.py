"""The run notebooks execute under papermill with tiny parameters and write their results tables."""
from pathlib import Path
import json
import papermill as pm

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(n_videos=7, n_frames=60, img_size=32, clip_stride=16, seq_len=4, epochs=1, visual_weights='random',
            audio_weights='random')


def _outputs(nb_path):
    nb = json.loads(Path(nb_path).read_text())
    return '\n'.join(''.join(o.get('text', '')) + ''.join(o.get('data', {}).get('text/markdown', ''))
                     for c in nb['cells'] if c['cell_type'] == 'code' for o in c.get('outputs', []))


def test_train_notebook(tmp_path):
    out, run = tmp_path/'train.ipynb', tmp_path/'run'
    pm.execute_notebook(str(ROOT/'nbs'/'train.ipynb'), str(out), cwd=str(tmp_path), progress_bar=False,
                        parameters=dict(out_dir=str(run), baselines=['unimodal_audio'], **TINY))
    text = _outputs(out)
    assert 'jmt validation CCC (ABAW protocol)' in text and 'mean' in text
    assert '| model' in text and 'unimodal_audio' in text  # the results table is in the output notebook
    rows = (run/'comparison.csv').read_text().splitlines()
    assert rows[0].startswith('model,fold') and len(rows) == 3  # header + jmt + unimodal_audio
    assert json.loads((run/'config.json').read_text())['config']['epochs'] == 1
    assert (run/'jmt_release_fold-official_seed-0'/'submission.csv').is_file()
    for f in ('learning_curves.png', 'va_validation_video.png'): assert (run/'jmt_release_fold-official_seed-0'/f).is_file(), f
    assert 'jmt better by' in text or 'jmt NOT better by' in text  # the summary names the model that ran


def test_reproduction_notebook(tmp_path):
    out, run = tmp_path/'repro.ipynb', tmp_path/'run'
    pm.execute_notebook(str(ROOT/'nbs'/'affwild2_reproduction.ipynb'), str(out), cwd=str(tmp_path), progress_bar=False,
                        parameters=dict(out_dir=str(run), folds=['official', 0], models=['jmt', 'unimodal_audio'],
                                        drops=['audio', 'frames'], **TINY))
    text = _outputs(out)
    assert 'Table 1' in text and '0.666' in text  # ours, and the paper's numbers labelled as such
    t1 = (run/'table1.csv').read_text().splitlines()
    assert len(t1) == 1 + 2 * 2 * 3  # folds x models x (ABAW raw, ABAW post-processed, release protocol)
    assert t1[0].startswith('fold,model,metric,postprocess,valence,arousal,mean')
    assert sum(',ABAW,' in r for r in t1) == 8 and sum(',release protocol,val.py,' in r for r in t1) == 4
    assert '| release protocol | val.py |' in text and 'release-protocol numbers' in out.read_text()  # both shown; the paper's named
    rob = (run/'robustness.csv').read_text().splitlines()
    assert len(rob) == 1 + 2 * 3 and 'frames' in ''.join(rob)  # models x (none, audio, frames) on the official split
    assert 'mean_release_protocol' in rob[0]


def test_train_notebook_biovid(tmp_path):
    "dataset='biovid' without data trains on the synthetic BioVid with the synthetic preset (the paper's lr stays at chance)."
    out, run = tmp_path/'train.ipynb', tmp_path/'run'
    pm.execute_notebook(str(ROOT/'nbs'/'train.ipynb'), str(out), cwd=str(tmp_path), progress_bar=False,
                        parameters=dict(dataset='biovid', out_dir=str(run), epochs=1))
    assert 'biovid (synthetic): lr 0.01, batch 4, epochs 1, standardize True' in _outputs(out)
    r = json.loads((run/'biovid'/'jmt_release_fold-0_seed-0'/'results.json').read_text())  # apart from Aff-Wild2 runs
    assert {k: r['config'][k] for k in ('lr', 'batch_size', 'standardize', 'epochs')} == dict(lr=.01, batch_size=4, standardize=True, epochs=1)
    assert r['epochs_run'] == 1 and 0 <= r['accuracy'] <= 1
