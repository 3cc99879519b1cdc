# The README's commands. `make train` runs the main job; `make test` runs exactly what CI runs.
PY ?= python
OUT ?= runs
PY3 ?= python3

.PHONY: install train test sync readme clean

# the run notebooks: executed by `make train` and by pytest (papermill, tiny parameters), never by nbdev_test
# (nbdev_test's own default, ^[_.], is kept)
RUN_NBS = ^[_.]|^(train|affwild2_reproduction|biovid_reproduction)\.ipynb$$

# installs exactly the tested versions: requirements.lock constrains every package, transitive ones included
install:
	$(PY) -m pip install -c requirements.lock -e ".[dev]"

train: install
	mkdir -p $(OUT)
	papermill nbs/train.ipynb $(OUT)/train.ipynb

# nbdev_test's scratch folders (the notebooks' tempfile dirs, about 1 GB) go to one folder, removed afterwards pass or fail;
# pytest deletes each passing test's tmp_path (pytest.ini)
test: install
	bash tools/check_sync.sh
	tmp=$$(mktemp -d); OMP_NUM_THREADS=1 TMPDIR=$$tmp nbdev_test --n_workers 2 --skip_file_re '$(RUN_NBS)'; s=$$?; rm -rf "$$tmp"; exit $$s
	$(PY) -m pytest

sync:
	nbdev_export
	nbdev_clean

readme:
	jupyter nbconvert --to notebook --execute --inplace nbs/index.ipynb
	nbdev_clean --fname nbs/index.ipynb
	$(PY) tools/make_readme.py

# The lock and the drift alarm (CONTRIBUTING.md "Dependencies"). `make lock` needs uv (pip install uv).
.PHONY: lock smoke check-latest
lock:
	$(PY) tools/lock.py

smoke:
	$(PY) tools/smoke.py

# a throwaway venv with the newest versions settings.ini allows (no lock): smoke, a few fast tests, then what moved
check-latest:
	PY3=$(PY3) bash tools/check_latest.sh

# On a GPU machine: every CUDA path of jmt measured or checked, one table (bench/gpu_check.py, < 8 min); JSON in $(OUT)/gpu_check.json
.PHONY: gpu-check
gpu-check: install
	$(PY) bench/gpu_check.py --out $(OUT)/gpu_check.json
