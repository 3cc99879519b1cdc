"""Every command works from a wheel install: build the wheel, install it into a fresh venv (no network), and from a folder
outside the repository run every console script's --help and real commands on a tiny synthetic Aff-Wild2."""
import configparser, os, shutil, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def console_scripts() -> list[str]:
    "The console scripts settings.ini declares (what the wheel must ship)."
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini')
    return [s.split('=')[0] for s in cfg['DEFAULT']['console_scripts'].split()]


def test_console_scripts_declared():
    assert {'jmt-train', 'jmt-prepare', 'jmt-extract', 'jmt-predict', 'jmt-reproduce'} <= set(console_scripts())


def _run(args, cwd, env, timeout=600):
    r = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f'{args}\n{r.stdout[-2000:]}\n{r.stderr[-3000:]}'
    return r.stdout


def dep_dirs() -> list[str]:
    "The site-packages folders this interpreter imports from: a venv's own, or a system install's (and what they fall back on)."
    return list(dict.fromkeys(p for p in map(str, sys.path) if Path(p).name in ('site-packages', 'dist-packages') and Path(p).is_dir()))


def see_deps(py, cwd, env):
    """Let the venv of `py` import this environment's packages. `venv --system-site-packages` would show it the *base*
    interpreter's packages, which from inside a venv are not the ones installed here; a `.pth` file in the new venv's
    site-packages lists ours instead (plain paths: their own .pth files, e.g. an editable jmt, are not processed)."""
    site = _run([py, '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], cwd, env).strip()
    (Path(site)/'_jmt_test_deps.pth').write_text('\n'.join(dep_dirs()) + '\n')


def test_new_venv_sees_this_environments_packages(tmp_path):
    "From a venv or a system install alike, the venv made by see_deps imports torch from where this interpreter does."
    import torch
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV')}
    _run([sys.executable, '-m', 'venv', '--without-pip', tmp_path/'v'], tmp_path, env)
    py = tmp_path/'v'/('Scripts/python.exe' if os.name == 'nt' else 'bin/python')
    see_deps(py, tmp_path, env)
    where = _run([py, '-c', 'import torch; print(torch.__file__)'], tmp_path, env).strip()
    assert Path(where).resolve() == Path(torch.__file__).resolve(), (where, torch.__file__)


@pytest.mark.slow
def test_every_command_from_a_wheel(tmp_path):
    # build from a copy of the sources (an in-tree build would leave build/ and *.egg-info in the repository)
    src = tmp_path/'src'; src.mkdir()
    for f in ('setup.py', 'settings.ini', 'pyproject.toml', 'README.md', 'LICENSE', 'MANIFEST.in'): shutil.copy(ROOT/f, src/f)
    shutil.copytree(ROOT/'jmt', src/'jmt', ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONHOME', 'VIRTUAL_ENV')}
    env.update(OMP_NUM_THREADS='1', MPLBACKEND='Agg', PIP_NO_INPUT='1', PIP_DISABLE_PIP_VERSION_CHECK='1', PYTHONWARNINGS='ignore')
    _run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--no-index', '-w', tmp_path/'dist', src], tmp_path, env)
    wheel, = (tmp_path/'dist').glob('jmt-*.whl')
    # a fresh venv that sees the installed dependencies (torch, ...) but gets jmt only from the wheel; no network
    venv = tmp_path/'venv'
    _run([sys.executable, '-m', 'venv', venv], tmp_path, env)
    bin_ = venv/('Scripts' if os.name == 'nt' else 'bin')
    see_deps(bin_/'python', tmp_path, env)
    _run([bin_/'python', '-m', 'pip', 'install', '--no-deps', '--no-index', '--force-reinstall', wheel], tmp_path, env)
    away = tmp_path/'elsewhere'; away.mkdir()  # outside the repository: nothing can come from the source tree
    where = _run([bin_/'python', '-c', 'import jmt; print(jmt.__file__)'], away, env).strip()
    assert Path(where).resolve().is_relative_to(venv.resolve()) and ROOT not in Path(where).resolve().parents, where
    for s in console_scripts():
        out = _run([bin_/s, '--help'], away, env)
        assert 'usage' in out.lower() and '--debug' in out, (s, out[:500])
    # real commands: jmt-prepare and jmt-extract on a tiny synthetic raw folder, then a tiny reproduction on that data folder
    _run([bin_/'python', '-c', 'import sys; from jmt.data.affwild2.synthetic import write_synthetic_affwild2 as w; '
          'w(sys.argv[1], n_videos=5, n_frames=48, n_val=1, n_test=1)', away/'raw'], away, env)
    _run([bin_/'jmt-prepare', '--data', away/'data', '--raw', away/'raw', '--folds', '2', '--quiet'], away, env)
    for b in ('visual', 'audio'):
        _run([bin_/'jmt-extract', '--backbone', b, '--data', away/'data', '--weights', 'random', '--img_size', '32',
              '--clip_stride', '16', '--quiet'], away, env)
    out = _run([bin_/'jmt-reproduce', '--dataset', 'affwild2', '--data', away/'data', '--out_dir', away/'repro', '--quick',
                '--folds', 'official', '--models', 'unimodal_audio', '--drops', 'audio', '--img_size', '32', '--clip_stride', '16',
                '--seq_len', '4', '--quiet'], away, env)
    assert 'Table 1' in out and 'unimodal_audio' in out and '0.666' in out, out[-2000:]
    assert (away/'repro'/'table1.csv').is_file() and (away/'repro'/'robustness.csv').is_file()
