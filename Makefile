# Parley: `make run` sets up and starts the server; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: setup run test test-slow test-all lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Parley needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e ".[dev]"
	# The official Symbl SDK, for the compatibility test: its pyaudio requirement is for
	# streaming only and does not build here, so install it without dependencies.
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps symbl==2.0.6 symbl-rest==1.0.14
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/parley serve

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -m "not slow and not services"

test-slow: $(STAMP)
	$(BIN)/pytest -m "slow or services"

test-all: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/asr.py

clean:
	rm -rf $(VENV) parley-data .pytest_cache .ruff_cache
