#!/usr/bin/env python
"""One command for a GPU machine (`make gpu-check`): every CUDA path of jmt, measured or checked, in one table.

Five sections, each time-boxed and guarded (a failure prints its error in its row and the next section still runs):

1. **extract** — clips/s of the frozen backbones (`bench/feature_extraction.py`'s `clips_per_s`): R(2+1)D-18 on 8-frame
   clips at 112 px, the audio ResNet-18 on 1x64x101 log-mels; fp32 (torch's defaults) against bf16 autocast +
   channels-last (`channels_last_3d` for the 5-D clips), each with and without `torch.compile`.
2. **fusion** — sequences/s of one training step (forward, 1 - CCC, backward, SGD) of the default JMT (`release`
   preset, T=16) at B=2 and B=8, eager against the whole step captured in a CUDA graph (`bench/fusion_step.py`).
3. **torchrun** — `torchrun --standalone --nproc_per_node 1` running 2 epochs of `jmt-train` on the synthetic data, in a
   process group of one rank on NCCL (jmt joins a group only when WORLD_SIZE > 1, so the child starts the group itself:
   then jmt's DDP wrapper, barriers, all-reduce and all-gather all run on NCCL).
4. **predict** — `jmt-predict` (`data_scripts/predict.py`) on a 60 s 640x480 video with audio (`write_face_video`) and an
   untrained run (`bench/predict.py`'s `bench_run`): the real-time factor of the command (start-up included) and of
   `predict_video` with its backbone and fusion shares.
5. **compare** — CUDA against CPU on small inputs: both backbones, the JMT forward, the CCC loss and the log-mel, in
   fp32 (TF32 off) and under bf16 autocast, each row with its tolerance.

    python bench/gpu_check.py                          # on a GPU machine: < 8 min (--budget 440 s), writes runs/gpu_check.json
    python bench/gpu_check.py --out $OUT/gpu.json --budget 420
    python bench/gpu_check.py --smoke                  # the same code paths on the CPU, tiny sizes (the test suite runs it)

`--smoke` runs on the CPU with gloo for NCCL, a 2 s video, a few clips, `torch.compile(backend='eager')` (dynamo without
inductor's C++ build) and no CUDA graph (its rows say "n/a on CPU"). Its numbers mean nothing; it keeps this script
from rotting. Rates are wall clock with `torch.cuda.synchronize()` on CUDA; CPU rates are per CPU-second of this process.
"""
from __future__ import annotations
import os
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # shared machine: idle OpenMP threads must not spin (set before torch)
import argparse, contextlib, datetime, json, platform, runpy, signal, subprocess, sys, tempfile, time, traceback, warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]  # the other bench scripts, and this checkout's jmt (also when it is not installed)

import torch

SECTIONS = ('extract', 'fusion', 'torchrun', 'predict', 'compare')
CAPS = dict(extract=170, fusion=50, torchrun=100, predict=100, compare=40)  # seconds per section on a GPU (sum 460)
SMOKE_CAPS = dict(extract=90, fusion=30, torchrun=150, predict=120, compare=60)  # generous: a shared CPU can be slow
FULL = dict(px=112, vis_batch=32, aud_batch=256, reps=20, fusion_reps=50, T=16, video_s=60., video_size=(640, 480),
            clip_stride=32, cmp_px=112, train=['--epochs', '2', '--quiet'])
SMOKE = dict(px=32, vis_batch=1, aud_batch=2, reps=1, fusion_reps=1, T=4, video_s=1.5, video_size=(160, 120),
             clip_stride=24, cmp_px=32, train=['--n_videos', '7', '--n_frames', '48', '--batch_size', '2', '--seq_len', '4',
                                                '--epochs', '2', '--quiet'])
# compare rows: (name, fp32 tolerance, bf16 tolerance, what the number is)
TOLS = {'visual backbone': (1e-4, 5e-2, 'rel'), 'audio backbone': (1e-4, 5e-2, 'rel'), 'JMT forward': (1e-4, 5e-2, 'rel'),
        'CCC loss': (1e-5, 1e-3, 'abs'), 'log-mel': (1e-3, 5e-2, 'abs')}


class SectionTimeout(Exception): pass


@contextlib.contextmanager
def timebox(seconds:float):
    "Raise `SectionTimeout` in this (main) thread after `seconds` (SIGALRM); a no-op where there is no SIGALRM."
    if not hasattr(signal, 'setitimer'): yield; return
    def fire(*_): raise SectionTimeout(f'SIGALRM after {seconds:.0f} s')
    old = signal.signal(signal.SIGALRM, fire); signal.setitimer(signal.ITIMER_REAL, max(seconds, .01))
    try: yield
    finally: signal.setitimer(signal.ITIMER_REAL, 0); signal.signal(signal.SIGALRM, old)


def run_cmd(cmd:list, timeout:float, env:dict|None=None, cwd=None) -> subprocess.CompletedProcess:
    "Run `cmd` in its own session; on a timeout or any interruption kill its whole process group (torchrun's workers too)."
    p = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd,
                         start_new_session=True)
    try: out, err = p.communicate(timeout=timeout)
    except BaseException:
        with contextlib.suppress(ProcessLookupError): os.killpg(p.pid, signal.SIGKILL)
        p.communicate(); raise
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def child_env() -> dict:
    "This environment with this checkout first on PYTHONPATH (the subprocesses import the same jmt)."
    pp = os.environ.get('PYTHONPATH')
    return {**os.environ, 'PYTHONPATH': str(ROOT) + (os.pathsep + pp if pp else ''), 'PYTHONWARNINGS': 'ignore'}


def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize(dev)


@contextlib.contextmanager
def fp32_exact():
    "Full fp32 on CUDA: TF32 off for matmuls and cuDNN convolutions (restored after)."
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try: yield
    finally: torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


class Report:
    "The rows of the table and the JSON."
    def __init__(self): self.rows, self.sections = [], {}
    def add(self, section:str, check:str, result:str, status:str='ok', note:str='', **values):
        self.rows.append(dict(section=section, check=check, result=result, status=status, note=note, **values))
    def failed(self) -> list: return [r for r in self.rows if r['status'] not in ('ok', 'n/a')]
    def table(self) -> str:
        w = [max(len(str(r[k])) for r in self.rows + [dict(section='section', check='check', result='result', status='status')])
             for k in ('section', 'check', 'result', 'status')]
        head = f"{'section':<{w[0]}}  {'check':<{w[1]}}  {'result':>{w[2]}}  {'status':<{w[3]}}  note"
        lines = [head, '-' * len(head)]
        for r in self.rows:
            lines.append(f"{r['section']:<{w[0]}}  {r['check']:<{w[1]}}  {r['result']:>{w[2]}}  {r['status']:<{w[3]}}  {r['note']}")
        return '\n'.join(lines)


# --- 1. feature extraction ----------------------------------------------------------------------------------------
def sec_extract(rep:Report, dev:torch.device, cfg:dict, smoke:bool):
    import feature_extraction as fe
    from jmt.features.backbones import make_backbone
    bf16 = torch.bfloat16
    inputs = {'visual': lambda: torch.randn(cfg['vis_batch'], 3, 8, cfg['px'], cfg['px']),
              'audio': lambda: torch.randn(cfg['aud_batch'], 1, 64, 101)}
    modes = [('fp32', None, False, False), ('bf16+channels-last', bf16, True, False),
             ('fp32+compile', None, False, True), ('bf16+channels-last+compile', bf16, True, True)]
    xs, base = {m: make_x().to(dev) for m, make_x in inputs.items()}, {}
    for m, mode, dt, cl, comp in sorted(((m, *md) for m in inputs for md in modes), key=lambda r: r[4]):  # compile rows last
        x = xs[m]; shape = 'x'.join(map(str, x.shape[1:]))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')  # random weights: speed does not depend on them
                net = make_backbone(m, 'random', seed=0, **({'img_size': cfg['px']} if m == 'visual' else {})).eval().to(dev)
            if comp: net = torch.compile(net, backend='eager') if smoke else torch.compile(net)
            t = time.perf_counter()
            r = fe.clips_per_s(net, x, reps=cfg['reps'], dtype=dt, channels_last=cl)  # one warm-up pass (compiles), then timed
            if mode == 'fp32': base[m] = r
            note = [f'batch {len(x)}'] + ([f'{r / base[m]:.2f}x fp32'] if m in base and mode != 'fp32' else []) \
                   + ([f'first pass incl. compile, whole row {time.perf_counter() - t:.0f} s'] if comp else [])
            rep.add('extract', f'{m} {shape} {mode}', f'{r:,.1f} clips/s', note='; '.join(note),
                    clips_per_s=r, ratio_to_fp32=(r / base[m] if m in base else None))
        except SectionTimeout: raise
        except Exception as e: rep.add('extract', f'{m} {shape} {mode}', 'error', 'error', _err(e))
        finally:
            if comp: torch._dynamo.reset()  # the next row compiles afresh
            if dev.type == 'cuda': torch.cuda.empty_cache()


# --- 2. fusion training step --------------------------------------------------------------------------------------
def sec_fusion(rep:Report, dev:torch.device, cfg:dict, smoke:bool):
    import fusion_step as fs
    from jmt.models.registry import make_model
    T = cfg['T']
    for B in (2, 8):
        g = torch.Generator().manual_seed(B)
        x = {m: torch.randn(B, T, 512, generator=g).to(dev) for m in fs.MODS}
        y = (torch.rand(B, T, 2, generator=g) * 2 - 1).to(dev)
        torch.manual_seed(0); eager = fs.make_step(make_model('jmt', preset='release').to(dev), x, y)
        if dev.type == 'cuda':
            torch.manual_seed(0); graph = fs.cuda_graph_step(make_model('jmt', preset='release').to(dev), x, y)
            t_e, t_g = fs.timeit([eager, graph], cfg['fusion_reps'], dev)
            rep.add('fusion', f'JMT release step B={B} T={T} eager', f'{B / t_e:,.0f} seq/s', note=f'{t_e * 1e3:.2f} ms/step', seq_per_s=B / t_e)
            rep.add('fusion', f'JMT release step B={B} T={T} CUDA graph', f'{B / t_g:,.0f} seq/s',
                    note=f'{t_g * 1e3:.2f} ms/step; {t_e / t_g:.2f}x eager', seq_per_s=B / t_g, speedup=t_e / t_g)
        else:
            (t_e,) = fs.timeit([eager], cfg['fusion_reps'], dev, warmup=1)
            rep.add('fusion', f'JMT release step B={B} T={T} eager', f'{B / t_e:,.1f} seq/s', note=f'{t_e * 1e3:.1f} ms/step (CPU-s)', seq_per_s=B / t_e)
            rep.add('fusion', f'JMT release step B={B} T={T} CUDA graph', '-', 'n/a', 'n/a on CPU (eager above)')


# --- 3. torchrun + jmt-train --------------------------------------------------------------------------------------
def ddp_child(backend:str, argv:list):
    "Under torchrun: start a process group of `backend` (jmt starts none for WORLD_SIZE=1), then run `python -m jmt.cli.train argv`."
    import torch.distributed as dist
    local = int(os.environ.get('LOCAL_RANK', 0)); kw = {}
    if backend == 'nccl': torch.cuda.set_device(local); kw['device_id'] = torch.device('cuda', local)
    dist.init_process_group(backend, rank=int(os.environ.get('RANK', 0)), world_size=int(os.environ.get('WORLD_SIZE', 1)),
                            timeout=datetime.timedelta(seconds=300), **kw)
    print(f'gpu_check: process group {dist.get_backend()}, world size {dist.get_world_size()}', flush=True)
    sys.argv = ['jmt.cli.train', *argv]
    runpy.run_module('jmt.cli.train', run_name='__main__', alter_sys=True)  # exits with jmt-train's status


def sec_torchrun(rep:Report, dev:torch.device, cfg:dict, smoke:bool, limit:float):
    backend = 'nccl' if dev.type == 'cuda' else 'gloo'
    with tempfile.TemporaryDirectory() as d:
        cmd = [sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '1', HERE / 'gpu_check.py',
               '--ddp-child', backend, '--out_dir', Path(d) / 'out', *cfg['train']]
        t = time.perf_counter(); r = run_cmd(cmd, timeout=limit, env=child_env(), cwd=d); wall = time.perf_counter() - t
        out = (r.stdout + '\n' + r.stderr).strip()
        group = next((l.split('gpu_check: ')[1] for l in out.splitlines() if 'gpu_check: process group' in l), 'no process group')
        ccc = next((l.strip().split('; results in')[0] for l in r.stdout.splitlines() if 'validation CCC' in l), '')
        runs = list((Path(d) / 'out').glob('*/results.csv'))
        ok = r.returncode == 0 and bool(runs)
        rep.add('torchrun', f'torchrun 1 proc {backend}: jmt-train 2 epochs (synthetic)', f'{wall:.1f} s' if ok else f'exit {r.returncode}',
                'ok' if ok else 'error', f'{group}; {ccc}' if ok else _tail(out), seconds=wall, returncode=r.returncode)


# --- 4. jmt-predict ----------------------------------------------------------------------------------------------
def sec_predict(rep:Report, dev:torch.device, cfg:dict, smoke:bool, limit:float):
    import predict as bp  # bench/predict.py
    from jmt.data.video import write_face_video
    from jmt.predict.bundle import load_run
    from jmt.predict.video import predict_video
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        d = Path(d); n = int(round(cfg['video_s'] * 30))
        v = write_face_video(d / 'clip.mp4', n_frames=n, fps=30, size=cfg['video_size'])
        with warnings.catch_warnings():
            warnings.simplefilter('ignore'); run = bp.bench_run(d / 'run', clip_stride=cfg['clip_stride'])
        dur, size = n / 30, 'x'.join(map(str, cfg['video_size']))
        rep.add('predict', f"test video {dur:g} s {size} @ 30 fps", f'{time.perf_counter() - t0:.1f} s', note='written (not timed below)')
        cmd = [sys.executable, ROOT / 'data_scripts' / 'predict.py', v['path'], '--run', run, '--out', d / 'out', '--device', dev.type, '--quiet']
        t = time.perf_counter(); r = run_cmd(cmd, timeout=max(limit - (time.perf_counter() - t0), 1), env=child_env())
        wall = time.perf_counter() - t
        ok = r.returncode == 0 and any((d / 'out').glob('*.csv'))
        rep.add('predict', f'jmt-predict {dur:g} s video ({dev.type})', f'RTF {wall / dur:.3f}' if ok else f'exit {r.returncode}',
                'ok' if ok else 'error', f'{wall:.1f} s wall, start-up and model loading included' if ok else _tail(r.stdout + r.stderr),
                rtf=wall / dur, seconds=wall)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            runobj = load_run(run, device=dev.type)
            t = time.perf_counter(); res = predict_video(v['path'], runobj, progress=False); sync(dev); wall = time.perf_counter() - t
        tm = res['timings']
        rep.add('predict', f'predict_video {dur:g} s video ({dev.type})', f'RTF {wall / dur:.3f}',
                note=f"{len(res['clip_ends'])} clips; backbones RTF {tm['backbones'] / dur:.3f}, fusion RTF {tm['fusion'] / dur:.4f}",
                rtf=wall / dur, backbones_s=tm['backbones'], fusion_s=tm['fusion'])


# --- 5. CUDA against CPU ------------------------------------------------------------------------------------------
def sec_compare(rep:Report, dev:torch.device, cfg:dict, smoke:bool):
    from jmt.features.backbones import make_backbone
    from jmt.learn.metrics import ccc_loss
    from jmt.models.registry import make_model
    from jmt.data.decode import log_mel
    cpu, px = torch.device('cpu'), cfg['cmp_px']
    g = torch.Generator().manual_seed(0)
    t = torch.arange(44100) / 44100
    wave = (.3 * torch.sin(2 * torch.pi * 440 * t) + .05 * torch.randn(44100, generator=g)).float()
    pred, lab = torch.rand(4, 16, 2, generator=g) * 2 - 1, torch.rand(4, 16, 2, generator=g) * 2 - 1
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        nets = {'visual backbone': (make_backbone('visual', 'random', seed=0, img_size=px).eval(), torch.randn(2, 3, 8, px, px, generator=g)),
                'audio backbone': (make_backbone('audio', 'random', seed=0).eval(), torch.randn(4, 1, 64, 101, generator=g))}
    torch.manual_seed(0)
    x = {m: torch.randn(2, 16, 512, generator=g) for m in ('visual', 'audio')}
    nets['JMT forward'] = (make_model('jmt', preset='release').eval(), x)
    def on(v, d): return {k: t.to(d) for k, t in v.items()} if isinstance(v, dict) else v.to(d)
    fns = {k: (lambda d, net=net, inp=inp: net.to(d)(on(inp, d))) for k, (net, inp) in nets.items()}
    fns['CCC loss'] = lambda d: ccc_loss(pred.to(d), lab.to(d))
    fns['log-mel'] = lambda d: log_mel(wave.to(d))  # on the device of its input
    for name, f in fns.items():
        t32, tbf, kind = TOLS[name]
        try:
            with torch.no_grad(), fp32_exact():
                ref = f(cpu).float()
                got = f(dev).float().cpu(); sync(dev)
                with torch.autocast(dev.type, dtype=torch.bfloat16):
                    got16 = f(dev).float().cpu(); sync(dev)
            scale = ref.abs().max().clamp_min(1e-12).item() if kind == 'rel' else 1.
            for prec, out, tol in (('fp32', got, t32), ('bf16 autocast', got16, tbf)):
                err = (out - ref).abs().max().item() / scale
                rep.add('compare', f'{name} {dev.type} vs cpu, {prec}', f'{err:.1e} {kind}', 'ok' if err <= tol else 'FAIL',
                        f"tolerance {tol:.0e} ({'max |diff| / max |cpu|' if kind == 'rel' else 'max |diff|'}); shape {tuple(ref.shape)}",
                        error=err, tolerance=tol, kind=kind)
        except SectionTimeout: raise
        except Exception as e: rep.add('compare', f'{name} {dev.type} vs cpu', 'error', 'error', _err(e))


def _err(e:BaseException) -> str: return f'{type(e).__name__}: {str(e).strip().splitlines()[0][:240] if str(e).strip() else ""}'
def _tail(s:str, n:int=240) -> str: return ' | '.join(l.strip() for l in s.strip().splitlines()[-3:])[-n:]


def environment(dev:torch.device) -> dict:
    env = dict(torch=torch.__version__, python=platform.python_version(), device=str(dev), cpus=len(os.sched_getaffinity(0)),
               date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'))
    if dev.type == 'cuda':
        env.update(gpu=torch.cuda.get_device_name(dev), cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
                   bf16=torch.cuda.is_bf16_supported(), memory_gib=round(torch.cuda.get_device_properties(dev).total_memory / 2**30, 1))
    return env


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ['--ddp-child']: return ddp_child(argv[1], argv[2:])
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--smoke', action='store_true', help='the same code paths on the CPU with tiny sizes (gloo, no CUDA graph)')
    ap.add_argument('--out', default=str(ROOT / 'runs' / 'gpu_check.json'), help='JSON file of the rows (default: runs/gpu_check.json)')
    ap.add_argument('--budget', type=float, default=None, help='seconds for all sections together (default: 440 on a GPU, 450 with --smoke)')
    ap.add_argument('--sections', default=','.join(SECTIONS), help=f'comma-separated subset of {",".join(SECTIONS)}')
    a = ap.parse_args(argv)
    secs = [s for s in a.sections.split(',') if s]
    bad = [s for s in secs if s not in SECTIONS]
    if bad: ap.error(f'--sections: unknown {bad}; choose from {",".join(SECTIONS)}')
    if not a.smoke and not torch.cuda.is_available():
        ap.error('no CUDA device here: run it on a GPU machine, or `--smoke` for the CPU run of the same code paths')
    dev, cfg, caps = (torch.device('cpu'), SMOKE, SMOKE_CAPS) if a.smoke else (torch.device('cuda'), FULL, CAPS)
    budget = a.budget if a.budget is not None else (450. if a.smoke else 440.)
    if a.smoke: torch.set_num_threads(1)
    env = environment(dev)
    print('gpu_check' + (' --smoke (CPU; numbers mean nothing)' if a.smoke else '') + ': ' + ', '.join(f'{k} {v}' for k, v in env.items()), flush=True)
    rep, start = Report(), time.perf_counter()
    fns = dict(extract=sec_extract, fusion=sec_fusion, torchrun=sec_torchrun, predict=sec_predict, compare=sec_compare)
    for s in secs:
        left = budget - (time.perf_counter() - start); limit = min(caps[s], left)
        if limit < 3:
            rep.add(s, s, '-', 'skipped', f'global --budget {budget:.0f} s spent')
            rep.sections[s] = dict(seconds=0., limit=round(limit, 1), status='skipped', rows=1); continue
        t, n = time.perf_counter(), len(rep.rows)
        try:
            with timebox(limit + 5):  # the subprocess sections stop their child at `limit` themselves
                fns[s](rep, dev, cfg, a.smoke, limit) if s in ('torchrun', 'predict') else fns[s](rep, dev, cfg, a.smoke)
            status = 'ok'
        except (SectionTimeout, subprocess.TimeoutExpired) as e:
            status = 'timeout'; rep.add(s, f'{s} (rest of the section)', '-', 'timeout', f'stopped by its time box ({limit:.0f} s; {type(e).__name__})')
        except Exception as e:
            status = 'error'; rep.add(s, f'{s} (rest of the section)', 'error', 'error', _err(e), traceback=traceback.format_exc()[-2000:])
        finally:
            if dev.type == 'cuda': torch.cuda.synchronize(); torch.cuda.empty_cache()
        rep.sections[s] = dict(seconds=round(time.perf_counter() - t, 1), limit=round(limit, 1), status=status, rows=len(rep.rows) - n)
        print(f'  {s}: {rep.sections[s]["seconds"]:.0f} s (time box {limit:.0f} s), {status}', flush=True)
    total = time.perf_counter() - start
    print('\n' + rep.table())
    print(f'\n{len(rep.rows)} rows, {len(rep.failed())} not ok; {total:.0f} s of a {budget:.0f} s budget')
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + '.tmp')
    tmp.write_text(json.dumps(dict(environment=env, smoke=a.smoke, budget_s=budget, seconds=round(total, 1),
                                   sections=rep.sections, rows=rep.rows), indent=1, default=str))
    tmp.replace(out)
    print(f'wrote {out}')
    return 1 if rep.failed() else 0


if __name__ == '__main__':
    sys.exit(main())
