"""The main run notebook executes under papermill with its parameters."""
from pathlib import Path
import papermill as pm

ROOT = Path(__file__).resolve().parents[1]


def test_train_notebook_runs(tmp_path):
    out = tmp_path / 'train.ipynb'
    pm.execute_notebook(str(ROOT / 'nbs' / 'train.ipynb'), str(out), cwd=str(tmp_path),
                        parameters=dict(out_dir=str(tmp_path / 'run'), seed=1), progress_bar=False)
    text = out.read_text()
    assert 'device cpu' in text or 'device cuda' in text
    assert (tmp_path / 'run').is_dir()
