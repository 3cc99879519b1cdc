"""Data are identified by content, not by path (issue 21, item 9): a finished run is reused after its data folder is moved
(`mv DATA DATA2; jmt-train --data DATA2 ...`), and redone when the data's content changes."""
import json, shutil
from pathlib import Path

import pytest

from jmt.cli.core import run_cli


def _cli(name, argv):
    import importlib
    return run_cli(getattr(importlib.import_module(f'jmt.cli.{name}'), name).__wrapped__, [str(a) for a in argv])


CLIP = ['--img_size', 16, '--clip_stride', 8]


def _train(data, runs):
    return _cli('train', ['--dataset', 'affwild2', '--data', data, '--out_dir', runs, '--epochs', 1, '--batch_size', 2, '--seq_len', 4,
                          '--device', 'cpu', '--quiet', *CLIP])


def _stamps(run:Path) -> dict:
    return {p.name: p.stat().st_mtime_ns for p in run.glob('*.pt')}


@pytest.fixture
def trained(tmp_path, capsys):
    from jmt.data.affwild2.synthetic import write_synthetic_affwild2
    data, runs = tmp_path / 'DATA', tmp_path / 'runs'
    write_synthetic_affwild2(data / 'raw', n_videos=5, n_frames=48, n_val=1, n_test=1)  # raw/ is a real folder inside DATA
    assert _cli('prepare', ['--data', data, '--folds', 2, '--quiet']) == 0
    for m in ('visual', 'audio'): assert _cli('extract', ['--backbone', m, '--data', data, '--weights', 'random', '--quiet', *CLIP]) == 0
    assert _train(data, runs) == 0, capsys.readouterr().err
    run, = [p for p in runs.iterdir() if p.is_dir() and (p / 'last.pt').exists()]
    capsys.readouterr()
    return data, runs, run


def test_moved_data_folder_reuses_the_finished_run(trained, tmp_path, capsys):
    data, runs, run = trained
    before = _stamps(run); assert before
    data2 = tmp_path / 'DATA2'; shutil.move(data, data2)
    assert _train(data2, runs) == 0, capsys.readouterr().err
    out = capsys.readouterr()
    assert 'redoing' not in out.out + out.err and 'other settings' not in out.out + out.err, out
    assert _stamps(run) == before  # reused: no checkpoint was written again


def test_changed_data_content_is_not_reused(trained, capsys):
    """The other side: the same folder with other feature values is other data: the finished run is refused, left as it is,
    and trained again only with --overwrite."""
    data, runs, run = trained
    import numpy as np
    before = _stamps(run)
    f = sorted((data / 'features').glob('*/audio/*.npy'))[0]
    a = np.load(f); a[0, 0] += 1; np.save(f, a)
    idx = json.loads((f.parent / 'index.json').read_text()); idx['records'].pop(f.stem, None)  # (re-extracted, as it were)
    (f.parent / 'index.json').write_text(json.dumps(idx))
    assert _train(data, runs) == 1
    err = capsys.readouterr().err
    assert 'features_sha256' in err and '--overwrite' in err, err
    assert _stamps(run) == before  # not touched
    assert _cli('train', ['--dataset', 'affwild2', '--data', data, '--out_dir', runs, '--epochs', 1, '--batch_size', 2, '--seq_len', 4,
                          '--device', 'cpu', '--quiet', '--overwrite', *CLIP]) == 0
    assert _stamps(run) != before  # trained again


def test_moved_biovid_folders_keep_the_saved_result(tiny_biovid_prepared, tmp_path):
    "BioVid: a run of the same windows and features in moved prepared/ and cache folders is the saved result, not retrained."
    import warnings
    from jmt.tasks.extract import extract_prepared
    from jmt.tasks.biovid_train import train_biovid
    prep, cache, run = tmp_path / 'DATA' / 'prepared', tmp_path / 'DATA' / 'features', tmp_path / 'run'
    shutil.copytree(tiny_biovid_prepared, prep)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        extract_prepared(prep, 'bio', 'random', cache, task='multiclass', n_clips=2, channels=['gsr'], progress=False)
    fit = lambda p, c: train_biovid(p, c, run, model='unimodal_bio', epochs=1, batch_size=8, quiet=True)
    fit(prep, cache)
    p = run / 'results.json'; p.write_text(json.dumps({**json.loads(p.read_text()), 'saved': True}))  # only a saved result carries it
    shutil.move(tmp_path / 'DATA', tmp_path / 'DATA2')
    assert fit(tmp_path / 'DATA2' / 'prepared', tmp_path / 'DATA2' / 'features').get('saved') is True
