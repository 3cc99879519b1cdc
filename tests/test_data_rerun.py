"""Re-runs repair and inputs are checked (issue 16): the real data scripts on tiny synthetic data made on the fly."""
import shutil, warnings

import numpy as np
import pytest

from jmt.data.affwild2.clips import AffWild2Clips
from jmt.features.cache import CacheMismatchError, load_features, read_index


def _cache_bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.glob('*.npy'))}


def _extract(cli, prepared, cache, **kw):
    "batch_size 4: a CPU ResNet's outputs depend on the batch's composition at the rounding level, so batches never mix videos (a redo is batched as the full run)"
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        return cli.main(str(prepared), backbone='audio', cache=str(cache), clip_stride=16, num_workers=0, batch_size=4, **kw)


def test_extraction_without_weights_is_reproducible_and_resumes(tiny_affwild2_prepared, tmp_path, load_script, capsys):
    """No weights file: the backbone comes from --seed (0), so a second identical run (or --weights random) reuses the cache,
    a run interrupted after some videos and resumed gives the uninterrupted bytes, and damaged files are redone and named."""
    cli, prep = load_script('data_scripts/extract_features.py'), tiny_affwild2_prepared
    full = _extract(cli, prep, tmp_path / 'full')
    idx = read_index(tmp_path / 'full', 'audio')
    assert idx['init_seed'] == 0 and idx['weights_sha256']
    ref, t = _cache_bytes(full), {p.name: p.stat().st_mtime_ns for p in full.glob('*.npy')}
    for weights in (None, 'random'):  # the second identical run: no CacheMismatchError, nothing recomputed
        _extract(cli, prep, tmp_path / 'full', weights=weights)
        assert {p.name: p.stat().st_mtime_ns for p in full.glob('*.npy')} == t
    with pytest.raises(CacheMismatchError, match='init_seed: cache has 0, requested 1'):
        _extract(cli, prep, tmp_path / 'full', seed=1)
    # interrupted after the validation person(s), then resumed over everyone: the same bytes as the uninterrupted run
    part = _extract(cli, prep, tmp_path / 'part', names='val')
    assert 0 < len(list(part.glob('*.npy'))) < len(ref)
    _extract(cli, prep, tmp_path / 'part')
    assert _cache_bytes(part) == ref
    # a killed copy leaves a truncated file and loses another: the re-run redoes exactly those, and says so
    a, b = sorted(ref)[:2]
    (part / a).write_bytes(ref[a][:300]); (part / b).unlink()
    capsys.readouterr()
    cli.main(str(prep), backbone='audio', cache=str(tmp_path / 'part'), clip_stride=16, num_workers=0, batch_size=4)
    out = capsys.readouterr().out
    assert f"redone {a[:-4]}: output truncated or changed (300 bytes" in out and f"redone {b[:-4]}: output missing" in out, out
    assert _cache_bytes(part) == ref
    assert len(load_features(tmp_path / 'part', 'audio')) == len(ref)  # verified against its records


def test_audio_maps_are_released(tiny_affwild2_prepared):
    "A DataLoader worker keeps one person's audio memory map open, not every one it has read."
    ds = AffWild2Clips(tiny_affwild2_prepared, modalities=('audio',), clip_stride=16)
    seen = set()
    for i in range(len(ds)):
        ds[i]; seen.add(ds._audio[0])
        assert isinstance(ds._audio, tuple) and len(ds._audio) == 2  # (file, map): one at a time
    assert len(seen - {None}) >= 2


@pytest.fixture
def raw(tmp_path):
    from jmt.data.affwild2.synthetic import write_synthetic_affwild2
    write_synthetic_affwild2(tmp_path / 'raw', n_videos=5, n_frames=24, n_val=1, n_test=1)
    return tmp_path / 'raw'


def _label(raw, name):
    return next(raw.rglob(f'VA_Estimation_Challenge/*/{name}.txt'))


def test_prepare_checks_labels_and_crops_against_the_video(raw, tmp_path, load_script, capsys):
    cli = load_script('data_scripts/prepare_affwild2.py')
    out = str(tmp_path / 'prep')
    lab = _label(raw, 'video2'); good = lab.read_text(); n = len(good.splitlines()) - 1
    # a UTF-8 BOM (and CRLF line ends) is a good label file
    lab.write_bytes(b'\xef\xbb\xbf' + good.replace('\n', '\r\n').encode())
    cli.main(raw=str(raw), out=out, quiet=True)
    # 20 lines more than the video's frames: an error naming the file and both counts ...
    lab.write_text(good + '0.1,0.2\n' * 20)
    with pytest.raises(ValueError, match=f'video2.txt: {n + 20} frame lines, but the video .*video2.avi has {n} frames'):
        cli.main(raw=str(raw), out=out, quiet=True)
    # ... or, with --on_error skip, the rest is prepared without that video (named in the output)
    capsys.readouterr()
    cli.main(raw=str(raw), out=out, quiet=True, on_error='skip')
    assert 'FAILED video2 (left out)' in capsys.readouterr().out
    # the file is fixed: the re-run reports the repair and the frame count of the fixed file
    lab.write_text(good)
    cli.main(raw=str(raw), out=out, quiet=True)
    o = capsys.readouterr().out
    assert 'redone video2: labels of video2 changed' in o, o  # (the marker of the first run, with the BOM file, is stale)
    from jmt.data.affwild2.prepare import load_index
    assert load_index(out)['videos']['video2']['n_frames'] == n
    lab.write_text(good.rsplit('\n', 3)[0] + '\n0.5,0.5\n0.5,0.5\n')  # same length, other values
    cli.main(raw=str(raw), out=out, quiet=True)
    assert 'redone video2: labels of video2 changed' in capsys.readouterr().out
    cli.main(raw=str(raw), out=str(tmp_path / 'fresh'), quiet=True)  # the repaired folder = an uninterrupted run on the fixed input
    files = lambda d: {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob('*')) if p.is_file()}
    assert files(tmp_path / 'prep') == files(tmp_path / 'fresh')
    # a header-only label file is an error naming the file
    lab.write_text('valence,arousal\n')
    with pytest.raises(ValueError, match='video2.txt: the file has only the header'): cli.main(raw=str(raw), out=out, quiet=True)
    lab.write_text(good)
    # crop files not named by frame number are an error naming the folder
    crops = next(raw.rglob('cropped_aligned/video2'))
    shutil.move(crops / '00003.jpg', crops / 'img_3.jpg')
    with pytest.raises(ValueError, match="video2': 1 file\\(s\\) are not named by frame number like 00001.jpg"):
        cli.main(raw=str(raw), out=out, quiet=True)


def test_prepare_warns_about_a_truncated_video(raw, tmp_path):
    from jmt.data.affwild2.prepare import prepare_affwild2
    v = next(raw.rglob('batch*/video2.avi')); b = v.read_bytes(); v.write_bytes(b[:int(len(b) * .6)])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        ix = prepare_affwild2(raw, tmp_path / 'prep', progress=False, on_error='skip')
    msgs = [str(o.message) for o in w]
    assert any('video2.avi: the video has' in m and 'truncated' in m for m in msgs), msgs
    assert any('video2.avi: the audio decodes to' in m for m in msgs), msgs
    assert 'video2' in ix['videos']  # the label file matches the declared count: prepared, with the warnings


def test_resumed_preparation_does_not_list_crops(raw, tmp_path, monkeypatch):
    "The scan walks the tree without entering the crop folders, and a resume with valid records lists no crop folder."
    import jmt.data.affwild2.prepare as prep_mod
    from jmt.data.affwild2.raw import _walk
    dirs, files = _walk(raw)
    assert files and not any('cropped_aligned' in f.parts for f in files)  # the crop files are never listed by the scan
    assert any(d.parent.name == 'cropped_aligned' for d in dirs)  # the person folders are found
    prep_mod.prepare_affwild2(raw, tmp_path / 'prep', progress=False)
    calls, orig = [], prep_mod.crop_mask
    monkeypatch.setattr(prep_mod, 'crop_mask', lambda *a: calls.append(a) or orig(*a))
    ix = prep_mod.prepare_affwild2(raw, tmp_path / 'prep', progress=False)
    assert calls == [] and ix['redone'] == {}


def test_empty_folds_are_reported_and_refused(raw, tmp_path):
    "More folds than train+val raw videos: the preparation warns naming folds.json, and training on an empty fold is refused before any work."
    from jmt.core import ArgumentError
    from jmt.data.affwild2.prepare import prepare_affwild2
    from jmt.tasks.affwild2_train import train_affwild2
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        prepare_affwild2(raw, tmp_path / 'prep', k=5, progress=False)  # 4 train+val raw videos
    assert any(f"{tmp_path / 'prep' / 'folds.json'}: fold(s) [4] of 5 are empty" in str(o.message) for o in w), [str(o.message) for o in w]
    with pytest.raises(ArgumentError, match=r"a non-empty fold \[0, 1, 2, 3\] \(fold 4 of .*folds.json is empty"):
        train_affwild2(tmp_path / 'prep', tmp_path / 'no_cache', tmp_path / 'runs', 'jmt', fold=4)
    assert not (tmp_path / 'runs').exists()
