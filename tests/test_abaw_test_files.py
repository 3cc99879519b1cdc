"""data_scripts/prepare_affwild2.py and the ABAW test files: found by content in subfolders and under misleading names,
given with --test_list / --test_sample, and reported (with how to add them) when absent."""
import json

import pytest

from jmt.data.affwild2.synthetic import TEST_LIST, TEST_SAMPLE, write_synthetic_affwild2


@pytest.fixture(scope='module')
def raw_template(tmp_path_factory):
    d = tmp_path_factory.mktemp('aw') / 'raw'
    truth = write_synthetic_affwild2(d, n_videos=5, n_frames=16, n_val=1, n_test=1)
    return d, sorted(n for n, t in truth.items() if t['split'] == 'test')


@pytest.fixture
def raw(raw_template, tmp_path):
    import shutil
    src, test_names = raw_template
    shutil.copytree(src, tmp_path / 'raw')
    return tmp_path / 'raw', test_names


def _tests(out): return sorted(n for n, v in json.loads((out / 'index.json').read_text())['videos'].items() if v['split'] == 'test')


def test_misleading_names_in_a_subfolder(raw, tmp_path, load_script, capsys):
    "The sample named like a test list (*test*.txt) and the list named like anything: the old file-name guess took the sample for the list."
    r, test_names = raw
    (r / 'annotations' / 'ABAW5').mkdir()
    (r / TEST_SAMPLE).rename(r / 'annotations' / 'ABAW5' / 'VA_test_set_sample.txt')
    (r / TEST_LIST).rename(r / 'annotations' / 'ABAW5' / 'names.csv')
    (r / 'notes_test.txt').write_text('Test set: see the ABAW website\n')
    load_script('data_scripts/prepare_affwild2.py').main(str(r), str(tmp_path / 'out'), folds=2, quiet=True)
    out = capsys.readouterr().out
    assert _tests(tmp_path / 'out') == test_names and 'WARNING' not in out
    assert 'ABAW test files: list annotations/ABAW5/names.csv, sample annotations/ABAW5/VA_test_set_sample.txt' in out


def test_sample_at_root_named_like_the_list(raw, tmp_path, load_script):
    r, test_names = raw
    (r / TEST_LIST).rename(r / 'test_names.csv')
    (r / TEST_SAMPLE).rename(r / 'Valence_Arousal_test_set.txt')
    load_script('data_scripts/prepare_affwild2.py').main(str(r), str(tmp_path / 'out'), folds=2, quiet=True)
    assert _tests(tmp_path / 'out') == test_names


def test_absent_then_given(raw, tmp_path, load_script, capsys):
    r, test_names = raw
    (r / TEST_LIST).rename(tmp_path / 'list.txt'); (r / TEST_SAMPLE).rename(tmp_path / 'sample.csv')
    cli = load_script('data_scripts/prepare_affwild2.py')
    cli.main(str(r), str(tmp_path / 'out'), folds=2, quiet=True)
    out = capsys.readouterr().out
    assert _tests(tmp_path / 'out') == []
    assert f'WARNING: no ABAW test files under {r.resolve()}: the test split is empty' in out
    assert '--test_list / --test_sample' in out and 'image_location,valence,arousal' in out
    cli.main(str(r), str(tmp_path / 'out'), folds=2, quiet=True, test_list=str(tmp_path / 'list.txt'), test_sample=str(tmp_path / 'sample.csv'))
    assert _tests(tmp_path / 'out') == test_names and 'WARNING' not in capsys.readouterr().out
    with pytest.raises(ValueError, match='pass it as test_sample='):
        cli.main(str(r), str(tmp_path / 'out'), folds=2, quiet=True, test_list=str(tmp_path / 'sample.csv'))


def test_list_without_sample_warns(raw, tmp_path, load_script, capsys):
    r, test_names = raw
    (r / TEST_SAMPLE).unlink()
    load_script('data_scripts/prepare_affwild2.py').main(str(r), str(tmp_path / 'out'), folds=2, quiet=True)
    assert _tests(tmp_path / 'out') == test_names
    assert 'WARNING: no ABAW sample submission' in capsys.readouterr().out
