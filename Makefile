# Two commands do everything on a fresh machine:
#   make run    install into .venv, run the default pipeline (synthetic benchmark, CPU)
#   make test   install into .venv, run the whole test suite
# While developing:
#   make test-fast   the suite without the end-to-end runs (tests marked slow)
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
CORES  ?= all
# Two pytest workers: the end-to-end pipelines (one worker, tests/workflow/conftest.py)
# wait on Snakemake, SLURM and DVC much of the time, and the other worker's unit and
# reliability tests use it. Idle OpenMP threads sleep instead of spinning on the cores.
WORKERS ?= 2
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: install run test test-fast lint dry-run config-docs clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (fsad needs Python 3.11; set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: install
	$(BIN)/snakemake --cores $(CORES) results/auc.csv all
	@cat results/tables/auc.md

test: install
	OMP_WAIT_POLICY=PASSIVE $(BIN)/pytest -q -n $(WORKERS) --dist loadgroup

test-fast: install
	$(BIN)/pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/snakefmt --check Snakefile workflow
	$(BIN)/snakemake --lint

dry-run: install
	$(BIN)/snakemake -n

# config/README.md's table of keys is generated from src/fsad/config.schema.yaml.
config-docs: install
	$(BIN)/fsad config --markdown --into config/README.md

clean:
	rm -rf results/* .snakemake
