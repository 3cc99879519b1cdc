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
