"""The task registry: `jmt-train` knows no dataset (a third one is one Task), and no module dispatches on a dataset or
modality string outside the task and backbone registries."""
import re, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BRANCH = re.compile(r"""\b(dataset|modality|mod|m)\s*[!=]=\s*['"]|[!=]=\s*['"](synthetic|affwild2|biovid|visual|audio|bio)['"]""")


def test_no_dataset_or_modality_branches():
    "No `if dataset == 'biovid'` / `modality == 'visual'` anywhere in the package: the tasks and backbone registries decide."
    hits = [f'{p.relative_to(ROOT)}:{i}: {l.strip()}' for p in sorted((ROOT/'jmt').rglob('*.py')) if p.name != '_modidx.py'
            for i, l in enumerate(p.read_text().splitlines(), 1) if BRANCH.search(l.split('#')[0])]
    assert not hits, '\n'.join(hits)


def test_branch_pattern_catches_the_old_code():
    for l in ["if dataset == 'affwild2': return 1", "dataset = dataset or ('biovid' if modality == 'bio' else 'affwild2')",
              "kw = dict(img_size=img_size) if m == 'visual' else {}", "if d != 'biovid':"]:
        assert BRANCH.search(l), l
    assert not BRANCH.search("if drop == 'frames':")


def test_registry_names_every_cli_dataset():
    from jmt.tasks.registry import TASKS, TASK_ALIASES, get_task
    from jmt.tasks.presets import RUN_PRESETS
    for name in TASKS:
        t = get_task(name)
        assert t.name == name and {(name, 'synthetic'), (name, 'paper')} <= set(RUN_PRESETS)
        for a in ('cli_prepare', 'cli_fit', 'cli_report', 'cli_folds', 'synthetic_default', 'write_synthetic', 'clip_dataset'):
            assert hasattr(t, a), (name, a)
    assert set(TASK_ALIASES.values()) <= set(TASKS)


def test_jmt_train_runs_a_third_dataset_from_the_registry(tmp_path, monkeypatch, capsys):
    "A toy Task registered under a new name trains through `jmt-train` unchanged: no dataset branch to add."
    import jmt.tasks.core, jmt.tasks.presets, jmt.tasks.registry
    from jmt.data.affwild2.synthetic import SynthSeq
    from jmt.learn.metrics import ccc_loss, va_metrics

    class Toy(jmt.tasks.core.Task):
        name, hparams, cli_folds, synthetic_default = 'toy', dict(seq_len=4), None, True
        loss = staticmethod(ccc_loss)
        def features(self, mods): return {}
        def datasets(self, fold, feats, mods, hp): return SynthSeq(16, 4, d=512, seed=fold), SynthSeq(8, 4, d=512, seed=99)
        def metric(self, vds, hp): return va_metrics
        @classmethod
        def cli_prepare(cls, data, work_dir, out_dir, synthetic, s, o, progress): return dict(synthetic=synthetic)
        @classmethod
        def cli_fit(cls, p, out_dir, s, o):
            return jmt.tasks.core.fit_task(cls(), o['model'], o['fold'], out_dir, epochs=s['epochs'], lr=s['lr'], batch_size=s['batch_size'],
                                      seed=o['seed'], device=o['device'], quiet=True)
        @classmethod
        def cli_report(cls, res, p, s, o): print(f"toy {res['model']}: mean CCC {res['metrics']['mean']:.3f}")

    monkeypatch.setitem(jmt.tasks.registry.TASKS, 'toy', Toy)
    for kind in ('synthetic', 'paper'): monkeypatch.setitem(jmt.tasks.presets.RUN_PRESETS, ('toy', kind), dict(epochs=1, lr=1e-2, batch_size=4))
    monkeypatch.delenv('JMT_DATA', raising=False)
    from jmt.cli.train import train
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        train(dataset='toy', model='vanilla', fold='0', device='cpu', out_dir=str(tmp_path/'out'), quiet=True)
    assert 'toy vanilla: mean CCC' in capsys.readouterr().out
    assert (tmp_path/'out'/'vanilla_release_fold-0_seed-0'/'last.pt').is_file()
