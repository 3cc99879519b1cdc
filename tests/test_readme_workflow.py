"""The README's "On the real datasets" block, run as written on a small synthetic raw folder, then run again: each
feature cache is computed exactly once, in the data folder, and the second run recomputes nothing."""
from pathlib import Path

from readme_block import readme_block, run_lines


def run_block(tmp: Path, raw: Path, data: Path):
    "The block's Aff-Wild2 lines (the BioVid ones have their own test), on `raw` into the data folder `data`."
    run_lines(tmp, [l for l in readme_block() if 'biovid' not in l], {'/data/affwild2': str(raw), '/data/jmt': str(data)})


def test_readme_real_data_block(tmp_path):
    from jmt.data.affwild2.synthetic import write_synthetic_affwild2
    # not tmp_path/'jmt': the commands run in tmp_path, where a folder named jmt would shadow the package (a namespace package)
    raw, data = tmp_path/'affwild2', tmp_path/'jmt_data'
    write_synthetic_affwild2(raw, n_videos=7, n_frames=16)  # the paper preset extracts a clip at every frame (112 px): few frames
    run_block(tmp_path, raw, data)
    caches = sorted(p.parent.relative_to(data) for p in data.rglob('features/*/*/index.json'))
    assert [str(c) for c in caches] == ['features/img112_stride1/audio', 'features/img112_stride1/visual'], caches
    assert not [p for p in tmp_path.rglob('index.json') if 'features' in p.parts and data not in p.parents]  # no second copy
    # features, audio and labels are never written again; the indexes a re-run rewrites keep their content
    stamp = lambda: {p: p.read_bytes() if p.suffix == '.json' else p.stat().st_mtime_ns for p in data.rglob('*') if p.is_file()}
    runs = lambda: {p: p.stat().st_mtime_ns for p in tmp_path.glob('runs/**/best.pt')}
    before, best = stamp(), runs()
    assert best  # jmt-train and the reproduction trained
    run_block(tmp_path, raw, data)
    assert stamp() == before  # nothing in the data folder was computed again
    assert runs() == best  # finished training runs are reused
