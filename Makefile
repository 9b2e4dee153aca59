# The README's two commands: `make demo` and `make test`. Both set everything up themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck unit bench completions clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Enqueue a few demo jobs on the embedded Redis, run a worker, and watch their live bars.
demo: $(STAMP)
	@env -u JQ_REDIS_URL -u REDIS_HOST JQ_HOME=$(CURDIR)/.jq-home sh scripts/demo.sh

# Lint, types, and the whole test suite (unit, integration, end-to-end, reliability).
test: lint typecheck
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests examples
	$(BIN)/ruff format --check src tests examples

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

bench: $(STAMP)
	$(BIN)/python tests/bench/bench.py

completions: $(STAMP)
	for shell in bash zsh fish; do $(BIN)/python -m jq completions $$shell > completions/jq.$$shell; done

clean:
	-env -u JQ_REDIS_URL -u REDIS_HOST JQ_HOME=$(CURDIR)/.jq-home $(BIN)/python -m jq server stop
	rm -rf $(VENV) .jq-home .pytest_cache .mypy_cache .ruff_cache
