"""The BioVid reproduction notebook executes end to end under papermill on a tiny synthetic BioVid."""
import csv
from pathlib import Path

import papermill as pm

ROOT = Path(__file__).resolve().parents[1]


def test_biovid_reproduction_notebook(tmp_path):
    out = tmp_path / 'repro.ipynb'
    run = tmp_path / 'run'
    pm.execute_notebook(str(ROOT / 'nbs' / 'biovid_reproduction.ipynb'), str(out), cwd=str(tmp_path), progress_bar=False,
                        parameters=dict(out_dir=str(run), n_subjects=2, n_per_class=1, img_size=32, n_clips=2, quick=True,
                                        batch_size=8))
    text = out.read_text()
    assert '| task | protocol | model |' in text  # the results table is in the output notebook
    assert 'LOSO (subject-independent)' in text and 'not subject-independent' in text
    for f in ('biovid_results.csv', 'biovid_results.md', 'config.json', 'folds.png', 'confusion.png', 'windows.png'):
        assert (run / f).is_file(), f
    rows = list(csv.DictReader(open(run / 'biovid_results.csv')))
    assert len(rows) == 2 * 2 * 2  # 2 models (quick) x 2 protocols x 2 tasks
    assert {r['model'] for r in rows} == {'jmt', 'unimodal_bio'}
    for r in rows: assert 0 <= float(r['accuracy_mean']) <= 1 and 0 <= float(r['macro_f1_mean']) <= 1
    assert (run / 'runs' / 'binary_loso_jmt' / 'fold1' / 'results.csv').is_file()

    # re-running the data step resumes: nothing is rewritten
    import warnings
    from jmt.tasks.biovid_train import prepare_biovid_features
    files = sorted((run / 'data' / 'features').rglob('*.npy')) + sorted((run / 'data' / 'prepared').rglob('*.npy'))
    stamps = [f.stat().st_mtime_ns for f in files]
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        info = prepare_biovid_features(None, run / 'data', n_subjects=2, n_per_class=1, img_size=32, n_clips=2, quiet=True)
    assert info['summary']['prepared_now'] == 0 and info['n_windows'] == 10
    assert len(files) == 10 * 4 and [f.stat().st_mtime_ns for f in files] == stamps
