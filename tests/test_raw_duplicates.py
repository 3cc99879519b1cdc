"""No silent guess about raw Aff-Wild2 inputs (issue 21, item 3): a label file in both Train_Set/ and Validation_Set/, or
two raw videos of one name, make `jmt-prepare` fail naming both files; the legitimate layouts still prepare."""
import shutil

import pytest

from jmt.cli.core import run_cli


def _prepare(argv):
    from jmt.cli.prepare import prepare
    return run_cli(prepare.__wrapped__, [str(a) for a in argv])


@pytest.fixture(scope='module')
def raw(tmp_path_factory):
    from jmt.data.affwild2.synthetic import write_synthetic_affwild2
    d = tmp_path_factory.mktemp('aw') / 'raw'
    write_synthetic_affwild2(d, n_videos=5, n_frames=16, n_val=1, n_test=1)
    return d


def _one_error(capsys, *contains):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith('error: '), err
    for c in contains: assert str(c) in err[0], (c, err[0])


def test_label_file_in_two_splits(tmp_path, raw, capsys):
    r = tmp_path / 'data' / 'raw'; shutil.copytree(raw, r)
    lab = r / 'annotations' / 'VA_Estimation_Challenge'
    t = sorted((lab / 'Train_Set').glob('*.txt'))[0]; v = lab / 'Validation_Set' / t.name
    shutil.copy(t, v)
    assert _prepare(['--data', tmp_path / 'data', '--folds', 2, '--quiet']) == 1
    _one_error(capsys, 'has a label file in two splits', t, v)
    assert not (tmp_path / 'data' / 'prepared' / 'index.json').exists()


@pytest.mark.parametrize('where', ['other folder', 'other extension'])
def test_two_raw_videos_of_one_name(tmp_path, raw, capsys, where):
    "A second copy with other frames (the old guess took the last by sort order, then blamed the label file's line count)."
    from jmt.data.affwild2.synthetic import write_video
    import numpy as np
    r = tmp_path / 'data' / 'raw'; shutil.copytree(raw, r)
    first = sorted((r / 'batch1').glob('video2.*'))[0]
    dup = (r / 'batch3' / first.name) if where == 'other folder' else first.with_suffix('.mp4' if first.suffix == '.avi' else '.avi')
    dup.parent.mkdir(exist_ok=True)
    write_video(dup, np.zeros((5, 32, 32, 3), np.uint8), 30, None, 22050)
    assert _prepare(['--data', tmp_path / 'data', '--folds', 2, '--quiet']) == 1
    a, b = sorted([first, dup])
    _one_error(capsys, "two raw videos for 'video2", f'{a} and {b}')


def test_legitimate_layouts_still_prepare(tmp_path, raw, capsys):
    "batch1/ + batch2/, .mp4 and .avi of different names, and a two-person video (_left/_right) sharing one raw video."
    r = tmp_path / 'data' / 'raw'; shutil.copytree(raw, r)
    assert {p.suffix for p in r.glob('batch*/*')} == {'.mp4', '.avi'} and len({p.parent.name for p in r.glob('batch*/*')}) == 2
    assert _prepare(['--data', tmp_path / 'data', '--folds', 2, '--quiet']) == 0, capsys.readouterr().err
    from jmt.data.affwild2.prepare import load_index
    v = load_index(tmp_path / 'data' / 'prepared')['videos']
    assert v['1-30-1280x720_left']['raw'] == v['1-30-1280x720_right']['raw']
