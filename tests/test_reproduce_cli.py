"""jmt-reproduce's command line: what each option becomes in the reproduction functions (the runs are stubbed; the real
runs are tested through the notebooks, which call the same functions, and from a wheel in test_wheel_install)."""
import pytest

import jmt.cli.reproduce as rp  # `main` reads reproduce_affwild2 from its own module
from jmt.cli.reproduce import main
import jmt.reproduce.biovid as rpb
from jmt.cli.core import run_cli


@pytest.fixture
def seen(monkeypatch):
    got = {}
    def fake(name):
        def f(data, out, **kw):
            got.update(kw, name=name, data=data, out=out)
            return dict(table1='T1', robustness=None, paper='P', table='T', verdicts=['v'])
        return f
    monkeypatch.setattr(rp, 'reproduce_affwild2', fake('affwild2'))
    monkeypatch.setattr(rpb, 'reproduce_biovid', fake('biovid'))  # main imports it from jmt.reproduce.biovid when asked
    return got


def test_affwild2_options(seen, monkeypatch, tmp_path):
    monkeypatch.delenv('JMT_DATA', raising=False)
    assert run_cli(main.__wrapped__, ['--dataset', 'affwild2', '--folds', 'official,0', '--models', 'jmt,rjcma',
                                         '--drops', '', '--quick', '--lr', '0.001']) == 0
    assert seen['name'] == 'affwild2' and seen['data'] is None and seen['out'] == 'runs/affwild2_reproduction'  # synthetic
    assert (seen['folds'], seen['models'], seen['drops'], seen['quick'], seen['lr']) == (['official', 0], ['jmt', 'rjcma'], [], True, 1e-3)
    assert seen['epochs'] is None and seen['img_size'] is None  # None: the run preset's
    monkeypatch.setenv('JMT_DATA', str(tmp_path))  # a data folder from the environment, as jmt-train
    assert run_cli(main.__wrapped__, ['--dataset', 'affwild2', '--out_dir', str(tmp_path / 'o')]) == 0
    assert seen['data'] == str(tmp_path) and seen['out'] == str(tmp_path / 'o')


def test_biovid_options(seen, monkeypatch, tmp_path):
    monkeypatch.setenv('JMT_DATA', str(tmp_path))  # the Aff-Wild2 data folder is never taken for BioVid
    assert run_cli(main.__wrapped__, ['--dataset', 'biovid', '--models', 'jmt,unimodal_bio', '--protocols', 'loso',
                                         '--tasks', 'binary', '--max_folds', '2']) == 0
    assert seen['name'] == 'biovid' and seen['data'] is None and seen['out'] == 'runs/biovid_reproduction'
    assert (seen['models'], seen['protocols'], seen['tasks'], seen['max_folds']) == (['jmt', 'unimodal_bio'], ['loso'], ['binary'], 2)


def test_bad_dataset_is_a_usage_error(capsys):
    assert run_cli(main.__wrapped__, ['--dataset', 'affwild']) == 2
    assert "--dataset must be one of 'affwild2', 'biovid'" in capsys.readouterr().err


def test_bad_grid_is_refused_before_any_work():
    with pytest.raises(ValueError, match='unimodal_bio'): rpb.biovid_plan(models=['unimodal_audio'])
    with pytest.raises(ValueError, match='loso'): rpb.biovid_plan(protocols=['lofo'])


def test_biovid_functions_are_imported_only_when_asked():
    import subprocess, sys
    code = "import sys, jmt.reproduce.affwild2; assert 'jmt.reproduce.biovid' not in sys.modules; print('ok')"
    assert subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.strip() == 'ok'
