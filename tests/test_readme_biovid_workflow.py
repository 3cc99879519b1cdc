"""The BioVid lines of the README's "On the real datasets" block, run as written on a tiny synthetic BioVid Part A folder,
then run again: each feature cache is computed exactly once, in the BioVid data folder, and the re-run recomputes nothing."""
from pathlib import Path

from readme_block import ROOT, readme_block, run_lines


def run_block(tmp: Path, raw: Path, data: Path) -> list[str]:
    "The block's BioVid lines (and its exports), on `raw` into the BioVid data folder `data`; returns the commands run."
    lines = [l for l in readme_block() if l.startswith('export ') or 'biovid' in l]
    return run_lines(tmp, lines, {'/data/jmt_biovid': str(data), '/data/biovid': str(raw), '/data/jmt': str(tmp/'jmt_data')},
                     env={'PYTHONPATH': str(ROOT)})


def test_readme_biovid_block(tmp_path):
    from jmt.data.biovid.synthetic import write_synthetic_biovid
    raw, data = tmp_path/'biovid_raw', tmp_path/'biovid_data'
    write_synthetic_biovid(raw, n_subjects=3, n_per_class=1, seed=0)
    ran = run_block(tmp_path, raw, data)
    assert len(ran) >= 5 and 'papermill' in ran, ran  # prepare, 2 extracts, train, the reproduction
    assert (data/'raw').resolve() == raw.resolve() and (data/'prepared'/'index.json').is_file()
    caches = sorted(p.parent.relative_to(data) for p in data.rglob('features/*/*/index.json'))
    assert [str(c) for c in caches] == ['features/img64_clips4/bio', 'features/img64_clips4/visual'], caches
    assert not [p for p in tmp_path.rglob('index.json') if 'features' in p.parts and data not in p.parents]  # no second copy
    assert not [p for p in tmp_path.rglob('prepared/index.json') if data not in p.parents]  # nor a second preparation
    stamp = lambda: {p: p.read_bytes() if p.suffix == '.json' else p.stat().st_mtime_ns for p in data.rglob('*') if p.is_file()}
    runs = lambda: {p: p.stat().st_mtime_ns for p in tmp_path.glob('runs/**/results.json')}
    before, done = stamp(), runs()
    assert done  # jmt-train and the reproduction trained
    run_block(tmp_path, raw, data)
    assert stamp() == before  # nothing in the data folder was computed again
    assert runs() == done  # finished training runs are reused
