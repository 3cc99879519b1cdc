"""`bench/gpu_check.py` (`make gpu-check`) cannot rot: `--smoke` runs every section's code path on the CPU (gloo for NCCL,
tiny sizes, the CUDA-graph rows marked n/a), and a failing or overrunning section leaves its error in its row while the
next section still runs."""
import json, os, subprocess, sys, time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_smoke_runs_every_section_on_the_cpu(tmp_path):
    out = tmp_path / 'gpu.json'
    env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT)}
    r = subprocess.run([sys.executable, str(ROOT / 'bench' / 'gpu_check.py'), '--smoke', '--out', str(out)],
                       capture_output=True, text=True, timeout=900, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    res = json.loads(out.read_text())
    assert res['smoke'] and res['environment']['device'] == 'cpu'
    assert list(res['sections']) == ['extract', 'fusion', 'torchrun', 'predict', 'compare']
    assert all(s['status'] == 'ok' for s in res['sections'].values()), res['sections']
    rows = res['rows']
    assert {r['status'] for r in rows} <= {'ok', 'n/a'}, [r for r in rows if r['status'] not in ('ok', 'n/a')]
    by = lambda sec: [r for r in rows if r['section'] == sec]
    assert len(by('extract')) == 8 and all(r['clips_per_s'] > 0 for r in by('extract'))  # 2 backbones x 4 modes
    graph = [r for r in by('fusion') if 'CUDA graph' in r['check']]
    assert len(graph) == 2 and all(r['status'] == 'n/a' and 'n/a on CPU' in r['note'] for r in graph)
    (tr,) = by('torchrun')
    assert 'process group gloo' in tr['note'] and 'validation CCC' in tr['note']
    assert [r['check'].split(' ')[0] for r in by('predict')] == ['test', 'jmt-predict', 'predict_video']
    assert all(r['rtf'] > 0 for r in by('predict')[1:])
    cmp = by('compare')
    assert len(cmp) == 10 and all(r['error'] <= r['tolerance'] for r in cmp)  # 5 quantities x (fp32, bf16)
    head = [l for l in r.stdout.splitlines() if l.startswith('section ')]
    assert len(head) == 1 and 'status' in head[0]  # one table


def test_a_failing_section_keeps_its_error_and_the_rest_runs(load_script, tmp_path, monkeypatch, capsys):
    g = load_script('bench/gpu_check.py')
    def boom(rep, dev, cfg, smoke): raise ValueError('boom in fusion')
    def slow(rep, dev, cfg, smoke): time.sleep(30)
    def fine(rep, dev, cfg, smoke): rep.add('compare', 'a check', '1.0', note='ran')
    monkeypatch.setattr(g, 'sec_extract', slow); monkeypatch.setattr(g, 'sec_fusion', boom); monkeypatch.setattr(g, 'sec_compare', fine)
    monkeypatch.setitem(g.SMOKE_CAPS, 'extract', 3)  # the time box: 3 s (+5 s grace) instead of 30 s
    t = time.perf_counter()
    rc = g.main(['--smoke', '--sections', 'extract,fusion,compare', '--out', str(tmp_path / 'g.json')])
    assert rc == 1 and time.perf_counter() - t < 20
    res = json.loads((tmp_path / 'g.json').read_text())
    assert [s['status'] for s in res['sections'].values()] == ['timeout', 'error', 'ok']
    rows = {r['section']: r for r in res['rows']}
    assert rows['extract']['status'] == 'timeout' and 'time box' in rows['extract']['note']
    assert rows['fusion']['status'] == 'error' and 'ValueError: boom in fusion' in rows['fusion']['note']
    assert rows['compare']['note'] == 'ran'
    assert 'boom in fusion' in capsys.readouterr().out  # in the printed table too


def test_budget_and_arguments(load_script, tmp_path, monkeypatch):
    g = load_script('bench/gpu_check.py')
    monkeypatch.setattr(g, 'sec_compare', lambda rep, dev, cfg, smoke: rep.add('compare', 'x', '1'))
    assert g.main(['--smoke', '--sections', 'compare', '--budget', '1', '--out', str(tmp_path / 'g.json')]) == 1
    (row,) = json.loads((tmp_path / 'g.json').read_text())['rows']
    assert row['status'] == 'skipped' and '--budget' in row['note']
    with pytest.raises(SystemExit):
        g.main(['--smoke', '--sections', 'extract,nope'])
    if not __import__('torch').cuda.is_available():
        with pytest.raises(SystemExit):  # no GPU and no --smoke: a usage error that says what to do
            g.main([])
