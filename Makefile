# limes — two commands matter: `make demo` and `make test`. Everything else they need is set up here.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Two stamps: the product alone (what `make demo` needs) and the test toolchain on top of it.
RUN_STAMP := $(VENV)/.setup-run-stamp
DEV_STAMP := $(VENV)/.setup-dev-stamp

.PHONY: setup setup-run demo test lint typecheck bench clean web venv

setup: $(DEV_STAMP)
setup-run: $(RUN_STAMP)

venv:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "limes needs Python 3.11 or newer"; exit 1; }
	@test -x $(BIN)/python || { $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install -q --upgrade pip; } || \
		{ echo "python3 -m venv failed: on Debian/Ubuntu run 'apt-get install python3-venv'"; exit 1; }

# The product only: what `limes demo` and `limes serve` need, no test tools.
$(RUN_STAMP): pyproject.toml | venv
	$(BIN)/python -m pip install -q -e .
	@touch $(RUN_STAMP)

# The test toolchain (pytest, playwright, Stone Soup, mypy, …) on top of the product.
$(DEV_STAMP): pyproject.toml | venv
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(RUN_STAMP) $(DEV_STAMP)

web: $(RUN_STAMP)
	@if [ -f web/package.json ]; then $(BIN)/python -m limes.web.build; fi

demo: $(RUN_STAMP) web
	$(BIN)/limes demo

test: $(DEV_STAMP) web
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q

lint:
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

typecheck:
	$(BIN)/mypy

bench: $(DEV_STAMP)
	PY=$(BIN)/python .ci/benchmarks

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
