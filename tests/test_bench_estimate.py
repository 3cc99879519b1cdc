"""The arithmetic of `bench/end_to_end.py`'s one-machine estimate (not a timing test): a stage fed by CPU decoding runs at
the slower of the GPU and the decoding workers, and the release's online pipeline pays the backbones on every sequence."""
from types import SimpleNamespace

import pytest


def test_machine_table_takes_the_slower_of_gpu_and_loader(load_script):
    b = load_script('bench/end_to_end.py')
    c = {'prepare': 1e-3, 'load clip': 1e-3, 'normalise clip': 2e-4, 'log-mel': 5e-4, 'read sequence': 1e-5}
    g = {'visual fwd': 1e-4, 'audio fwd': 1e-5, **{f'{n} {k}': 1e-3 for n in b.MODELS for k in ('step', 'eval')}}
    a = SimpleNamespace(frames=3000., fps=30., T=16, folds=5, epochs=5)
    rows, per_clip = b.machine_table(c, g, a, clips=100., tr=8., va=2., runs=25, cores=5)
    assert per_clip['visual'] == pytest.approx(1.2e-3 / 4)  # 4 workers decode 1.2 ms clips: slower than the GPU's 0.1 ms
    assert per_clip['audio'] == pytest.approx(5e-4 / 4)
    r = {s: (x, y) for s, _, x, y in rows}
    assert r['extract visual features (once)'][0] == pytest.approx(100 * 1.2e-3 / 4)
    assert r['prepare (audio, labels, index)'][0] == pytest.approx(1e-3 * 100 / 5)
    cached, online = r['train+validate jmt']
    assert cached == pytest.approx(25 * 10 * (1e-3 + 1e-5))
    assert online == pytest.approx(25 * 10 * (1e-3 + 16 * (per_clip['visual'] + per_clip['audio'])))
    g['visual fwd'] = 1.  # a slow GPU: now the backbone sets the pace
    _, per_clip = b.machine_table(c, g, a, clips=100., tr=8., va=2., runs=25, cores=5)
    assert per_clip['visual'] == 1.
