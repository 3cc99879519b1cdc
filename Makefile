# The README's commands. `make train` runs the main job; `make test` runs exactly what CI runs.
PY ?= python
OUT ?= runs

.PHONY: install train test sync readme clean

install:
	$(PY) -m pip install -e ".[dev]"

train: install
	mkdir -p $(OUT)
	papermill nbs/train.ipynb $(OUT)/train.ipynb

test: install
	bash tools/check_sync.sh
	OMP_NUM_THREADS=1 nbdev_test --n_workers 2
	$(PY) -m pytest

sync:
	nbdev_export
	nbdev_clean

readme:
	jupyter nbconvert --to notebook --execute --inplace nbs/index.ipynb
	nbdev_clean --fname nbs/index.ipynb
	$(PY) tools/make_readme.py

# On a GPU machine: every CUDA path of jmt measured or checked, one table (bench/gpu_check.py, < 8 min); JSON in $(OUT)/gpu_check.json
.PHONY: gpu-check
gpu-check:
	$(PY) bench/gpu_check.py --out $(OUT)/gpu_check.json
