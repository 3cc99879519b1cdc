"""Time one JMT training step (forward, 1 - CCC loss, backward, SGD step) of the official release's FC-head preset.

Compares `jmt.models.registry.make_model('jmt', preset='release_fc')` with a reference build of the same model from plain `nn.TransformerEncoderLayer`
and `nn.MultiheadAttention` (written below), side by side in one run at B=2 and B=8 (T=16, 512-d features). Both get
the same weights, and their outputs are checked equal before timing. The ratio is reference time / our time (>= 1: ours
is not slower). On CUDA it also captures our whole training step in a CUDA graph and reports its sequences/s against
the eager step's. On CPU, times are CPU-seconds of this process (1 thread by default: per core), which do not count time
spent waiting for a core on a shared machine. Usage: `python bench/fusion_step.py [--reps 30] [--device cpu|cuda]`.
"""
import os
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')  # shared machine: idle OpenMP threads must not spin (set before torch)
import argparse, statistics, time

import torch
import torch.nn.functional as F
from torch import nn

from jmt.learn.metrics import ccc_loss
from jmt.models.registry import make_model

MODS = ('visual', 'audio')


class RefJMT(nn.Module):
    "The release's fusion written with stock modules: nn.TransformerEncoderLayer x3, nn.MultiheadAttention x3 (shared by query)."
    def __init__(self, d=512, n_targets=2):
        super().__init__()
        self.srcs = MODS + ('joint',)
        self.joint_fc = nn.Linear(2 * d, d)
        self.encoders = nn.ModuleDict({s: nn.TransformerEncoderLayer(d, 1, 512, dropout=0., batch_first=True) for s in self.srcs})
        self.cross = nn.ModuleDict({s: nn.MultiheadAttention(d, 1, batch_first=True) for s in self.srcs})
        self.fc = nn.Linear(6 * d, 1024)
        self.branches = nn.ModuleList(nn.Sequential(nn.Linear(1024, 128), nn.ReLU(), nn.Dropout(0.), nn.Linear(128, 1)) for _ in range(n_targets))

    def forward(self, x, mask=None):
        xs = {m: F.normalize(x[m], dim=-1) for m in MODS}
        xs['joint'] = self.joint_fc(torch.cat([xs[m] for m in MODS], -1))
        h = {s: self.encoders[s](xs[s]) for s in self.srcs}
        outs = [self.cross[q](h[q], h[k], h[k], need_weights=False)[0] for q in self.srcs for k in self.srcs if k != q]
        z = self.fc(torch.cat(outs, -1))
        return torch.cat([b(z) for b in self.branches], -1)


def copy_ref_to_ours(ref, ours):
    "Load the reference's weights into our model (same parameter layout, stacked head branches)."
    with torch.no_grad():
        ours.joint_fc.load_state_dict(ref.joint_fc.state_dict())
        for s in ref.srcs:
            ours.encoders[s].layers[0].load_state_dict(ref.encoders[s].state_dict())
            ours.cross[s].load_state_dict(ref.cross[s].state_dict())
        ours.head.fc.load_state_dict(ref.fc.state_dict())
        ours.head.fc1.weight.copy_(torch.cat([b[0].weight for b in ref.branches]))
        ours.head.fc1.bias.copy_(torch.cat([b[0].bias for b in ref.branches]))
        ours.head.w2.copy_(torch.cat([b[3].weight for b in ref.branches]))
        ours.head.b2.copy_(torch.cat([b[3].bias for b in ref.branches]))


def make_step(model, x, y):
    opt = torch.optim.SGD(model.parameters(), lr=5e-4, momentum=.9, nesterov=True, weight_decay=1e-4)
    def step():
        opt.zero_grad()
        loss = ccc_loss(model(x), y)
        loss.backward(); opt.step()
        return loss
    return step


def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize()


def timeit(fns, reps, dev, warmup=3):
    "Interleaved timing: median seconds per call of each function (CPU: CPU-seconds of this process; CUDA: wall clock)."
    clock = time.process_time if dev.type == 'cpu' else time.perf_counter  # CPU: not counting waits for a core
    for f in fns:
        for _ in range(warmup): f()
    ts = [[] for _ in fns]
    for _ in range(reps):
        for i, f in enumerate(fns):
            sync(dev); t = clock(); f(); sync(dev); ts[i].append(clock() - t)
    return [statistics.median(t) for t in ts]


def cuda_graph_step(model, x, y):
    "Capture a whole training step (forward, backward, SGD) in a CUDA graph; returns a replay function."
    opt = torch.optim.SGD(model.parameters(), lr=5e-4, momentum=.9, nesterov=True, weight_decay=1e-4)
    s = torch.cuda.Stream(); s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):  # warm up (creates the momentum buffers) outside the graph
        for _ in range(3):
            opt.zero_grad(set_to_none=True); ccc_loss(model(x), y).backward(); opt.step()
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=True)  # grads are then allocated from the graph's pool and overwritten on each replay
    with torch.cuda.graph(g):
        loss = ccc_loss(model(x), y); loss.backward(); opt.step()
    return g.replay


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--reps', type=int, default=20, help='timed repetitions per model and batch size')
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--T', type=int, default=16, help='clips per sequence')
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (1: per-core figures, robust on a shared machine)')
    a = ap.parse_args()
    torch.set_num_threads(a.threads); dev = torch.device(a.device)
    print(f"device {dev}, torch {torch.__version__}, threads {torch.get_num_threads()}, T={a.T}, reps={a.reps}, "
          f"load average {os.getloadavg()[0]:.1f} (nproc {os.cpu_count()})")
    print(f"{'B':>3} {'ours ms':>9} {'nn.MHA ref ms':>14} {'ratio ref/ours':>15} {'ours seq/s':>11}")
    ratios = {}
    for B in (2, 8):
        torch.manual_seed(0)
        ref, ours = RefJMT().to(dev), make_model('jmt', preset='release_fc').to(dev)
        copy_ref_to_ours(ref, ours)
        g = torch.Generator().manual_seed(B)
        x = {m: torch.randn(B, a.T, 512, generator=g).to(dev) for m in MODS}
        y = (torch.rand(B, a.T, 2, generator=g) * 2 - 1).to(dev)
        with torch.no_grad():
            err = (ours(x) - ref(x)).abs().max().item()
        assert err < 1e-4, f"our model and the reference disagree by {err}"
        t_ours, t_ref = timeit([make_step(ours, x, y), make_step(ref, x, y)], a.reps, dev)
        ratios[B] = t_ref / t_ours
        print(f"{B:>3} {t_ours*1e3:>9.1f} {t_ref*1e3:>14.1f} {ratios[B]:>15.2f} {B/t_ours:>11.1f}")
    if dev.type == 'cuda':
        print("\nCUDA graph of the whole training step (ours):")
        print(f"{'B':>3} {'eager seq/s':>12} {'graph seq/s':>12} {'speed-up':>9}")
        for B in (2, 8):
            torch.manual_seed(0)
            m_eager, m_graph = make_model('jmt', preset='release_fc').to(dev), make_model('jmt', preset='release_fc').to(dev)
            x = {m: torch.randn(B, a.T, 512, device=dev) for m in MODS}
            y = torch.rand(B, a.T, 2, device=dev) * 2 - 1
            t_e, t_g = timeit([make_step(m_eager, x, y), cuda_graph_step(m_graph, x, y)], a.reps, dev)
            print(f"{B:>3} {B/t_e:>12.0f} {B/t_g:>12.0f} {t_e/t_g:>9.2f}x")
    else:
        print("\nGPU part (CUDA graph / reduce-overhead step) not measured: no CUDA device here.")
    print("ratio >= 1.0 means ours is not slower:", ', '.join(f"B={B}: {r:.2f}" for B, r in ratios.items()))
    print(f"load average now {os.getloadavg()[0]:.1f}")


if __name__ == '__main__':
    main()
