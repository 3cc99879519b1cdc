"""data_scripts/prepare_affwild2.py: fast on the default synthetic set, and killed + re-run == uninterrupted."""
import os, subprocess, sys, textwrap, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT/'data_scripts'/'prepare_affwild2.py'
ENV = {**os.environ, 'PYTHONPATH': str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', '')}


def _files(d):
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(Path(d).rglob('*')) if p.is_file()}


def test_prepare_default_synthetic_fast_and_resume_equals_clean_run(tmp_path):
    raw, clean, resumed = tmp_path/'raw', tmp_path/'clean', tmp_path/'resumed'
    t = time.time()
    r = subprocess.run([sys.executable, str(SCRIPT), '--raw', str(raw), '--out', str(clean), '--synthetic'],
                       capture_output=True, text=True, env=ENV)
    took = time.time() - t
    assert r.returncode == 0, r.stderr
    assert took < 120, f'writing + preparing the default synthetic set took {took:.0f}s'
    assert 'persons (' in r.stdout and 'missing crops' in r.stdout and 'without audio' in r.stdout
    # a run killed with SIGKILL in the middle of writing the 5th .npy (the 3rd raw video) (a partial temporary file is left behind)
    killer = textwrap.dedent(f'''
        import os, signal, sys, runpy, numpy as np
        calls = [0]; save = np.save
        def dying_save(f, arr, *a, **k):
            calls[0] += 1
            if calls[0] == 5:
                f.write(b'partial'); f.flush(); os.kill(os.getpid(), signal.SIGKILL)
            return save(f, arr, *a, **k)
        np.save = dying_save
        sys.argv = ['prepare_affwild2.py', '--raw', {str(raw)!r}, '--out', {str(resumed)!r}, '--quiet']
        runpy.run_path({str(SCRIPT)!r}, run_name='__main__')
    ''')
    k = subprocess.run([sys.executable, '-c', killer], capture_output=True, text=True, env=ENV)
    assert k.returncode == -9, (k.returncode, k.stderr)
    partial = _files(resumed)
    assert 'index.json' not in partial and any(n.endswith('.tmp') for n in partial), sorted(partial)
    assert any(n.startswith('videos/') for n in partial), 'the first video should have finished before the kill'
    r2 = subprocess.run([sys.executable, str(SCRIPT), '--raw', str(raw), '--out', str(resumed), '--quiet'],
                        capture_output=True, text=True, env=ENV)
    assert r2.returncode == 0, r2.stderr
    a, b = _files(clean), _files(resumed)
    assert sorted(a) == sorted(b)
    assert all(a[n] == b[n] for n in a), [n for n in a if a[n] != b[n]]
