"""A console script writing to a log (stderr a file): plain progress lines, no `\\r` frames (issue 21 item 11); warnings as
`WARNING: ...` lines without source lines (item 8); `--model unimodal_audio` extracts only the audio features (item 9)."""
import os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]),
       'JMT_PROGRESS_INTERVAL': '0'}  # a line at every update: the test's runs are short


def test_jmt_train_log_has_plain_lines_and_warnings(tmp_path):
    log = tmp_path/'stderr.log'
    with open(log, 'w') as f:
        r = subprocess.run([sys.executable, '-m', 'jmt.cli.train', '--out_dir', str(tmp_path/'runs'), '--model', 'unimodal_audio',
                            '--n_videos', '7', '--n_frames', '40', '--img_size', '32', '--clip_stride', '16', '--epochs', '2',
                            '--seq_len', '4'], stdout=subprocess.PIPE, stderr=f, text=True, env=ENV, cwd=tmp_path, timeout=600)
    err = log.read_text()
    assert r.returncode == 0, err[-3000:]
    assert '\r' not in err and '\x1b[' not in err, repr(err[:1000])
    lines = err.splitlines()
    for what in ('prepare Aff-Wild2', 'audio features', 'fit'): assert any(l.startswith(what) for l in lines), (what, err[-3000:])
    assert any(l.startswith('WARNING: ') and 'random' in l for l in lines), err[-3000:]  # random-init backbone, said once, plainly
    assert 'UserWarning' not in err and 'warnings.warn' not in err, err[-3000:]
    feats = tmp_path/'runs'/'data'/'features'
    assert [p.name for p in feats.glob('*/*') if p.is_dir()] == ['audio']  # no visual features for an audio model


def test_jmt_train_biovid_unimodal_bio_extracts_only_bio(tmp_path):
    r = subprocess.run([sys.executable, '-m', 'jmt.cli.train', '--dataset', 'biovid', '--out_dir', str(tmp_path/'runs'), '--model',
                        'unimodal_bio', '--epochs', '1'], capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    feats = tmp_path/'runs'/'data'/'biovid'/'features'
    assert sorted(p.name for p in feats.iterdir() if p.is_dir()) == ['bio'], list(feats.iterdir())  # no face features for a bio model
