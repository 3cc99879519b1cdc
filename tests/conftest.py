"""Shared pytest fixtures."""
import pytest


@pytest.fixture(scope='session')
def tiny_affwild2_prepared(tmp_path_factory):
    "A tiny synthetic Aff-Wild2 (5 persons × ~48 frames), written in the raw format and prepared once per session; treat it as read-only."
    from jmt.data.prepare import prepare_affwild2
    from jmt.data.synthetic import write_synthetic_affwild2
    d = tmp_path_factory.mktemp('affwild2')
    write_synthetic_affwild2(d / 'raw', n_videos=5, n_frames=48, n_val=1, n_test=1)
    prepare_affwild2(d / 'raw', d / 'prepared', progress=False)
    return d / 'prepared'


@pytest.fixture(scope='session')
def tiny_biovid_prepared(tmp_path_factory):
    "A tiny synthetic BioVid (2 subjects × 5 classes × 1 window, 32-px centre crops), prepared once per session; treat it as read-only."
    import warnings
    from jmt.data.biovid import prepare_biovid
    from jmt.data.biovid_synthetic import write_synthetic_biovid
    d = tmp_path_factory.mktemp('biovid')
    write_synthetic_biovid(d / 'raw', n_subjects=2, n_per_class=1)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # no face detector: the reported centre-crop fallback, on purpose
        prepare_biovid(d / 'raw', d / 'prepared', size=32, detector=None, progress=False)
    return d / 'prepared'
