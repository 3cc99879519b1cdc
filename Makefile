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
