"""Shared pytest fixtures."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='session')
def load_script():
    "A function that imports a repository script (e.g. 'bench/end_to_end.py') as a module, without running its CLI."
    def load(rel:str):
        spec = importlib.util.spec_from_file_location(Path(rel).stem, ROOT / rel)
        mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
        return mod
    return load


@pytest.fixture(scope='session')
def tiny_affwild2_prepared(tmp_path_factory):
    "A tiny synthetic Aff-Wild2 (5 persons × ~48 frames), written in the raw format and prepared once per session; treat it as read-only."
    from jmt.data.affwild2.prepare import prepare_affwild2
    from jmt.data.affwild2.synthetic import write_synthetic_affwild2
    d = tmp_path_factory.mktemp('affwild2')
    write_synthetic_affwild2(d / 'raw', n_videos=5, n_frames=48, n_val=1, n_test=1)
    prepare_affwild2(d / 'raw', d / 'prepared', progress=False)
    return d / 'prepared'


@pytest.fixture(scope='session')
def tiny_biovid_prepared(tmp_path_factory):
    "A tiny synthetic BioVid (2 subjects × 5 classes × 1 window, 32-px centre crops), prepared once per session; treat it as read-only."
    import warnings
    from jmt.data.biovid.prepare import prepare_biovid
    from jmt.data.biovid.synthetic import write_synthetic_biovid
    d = tmp_path_factory.mktemp('biovid')
    write_synthetic_biovid(d / 'raw', n_subjects=2, n_per_class=1)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # no face detector: the reported centre-crop fallback, on purpose
        prepare_biovid(d / 'raw', d / 'prepared', size=32, detector=None, progress=False)
    return d / 'prepared'
