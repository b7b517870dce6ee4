# Parley: `make run` sets up and starts the server; `make test` sets up and runs the tests.
# Both install from requirements.lock, so everyone runs the versions that were measured.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml client/pyproject.toml requirements.lock requirements-sdk.lock | cksum | cut -d' ' -f1)
PIP := $(BIN)/pip install --quiet --disable-pip-version-check

.PHONY: setup run test test-slow test-all lint typecheck lock bench clean

# Installs exactly what requirements.lock pins (hashes checked), then Parley itself. --no-deps:
# the lock is complete, so pip resolves nothing (its resolver, given an extra such as
# weasel's smart-open[http], picked a newer release than the pin and refused it); pip check
# then proves the pinned set is consistent. The client (client/, the parley-client
# distribution the server depends on) comes from this repository, before the server.
$(STAMP): pyproject.toml client/pyproject.toml requirements.lock requirements-sdk.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Parley needs Python 3.11+"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --no-deps --require-hashes -r requirements.lock
	$(PIP) --no-deps -e ./client
	$(PIP) --no-deps -e .
	@# the official symbl SDK (a test client, installed after this check) declares pyaudio, which it
	@# needs only for a microphone: in a venv set up before, that line is not a broken pin of ours
	@problems=$$($(BIN)/pip check | grep -v -e '^No broken requirements found' \
		-e '^symbl [0-9.]* requires pyaudio, which is not installed'); \
	if [ -n "$$problems" ]; then echo "$$problems"; exit 1; fi
	$(PIP) --no-deps --require-hashes -r requirements-sdk.lock
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/parley serve

# The fast suite on both cores (pytest-xdist), a test file per worker at a time: the servers a
# module shares start once. TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -m "not slow and not services" -n $(TEST_WORKERS) --dist loadfile

typecheck: $(STAMP)
	$(BIN)/mypy

test-slow: $(STAMP)
	# an unclosed socket in the slow suite is shown, not raised, until its leak is found
	$(BIN)/pytest -m "slow or services" -W "default::ResourceWarning"

test-all: $(STAMP)
	$(BIN)/pytest

# Re-resolve every pinned version after changing pyproject.toml (see README, "Upgrading").
# parley-client (client/) is on no index: pip-compile finds it as a wheel built here, and
# --unsafe-package leaves it out of the lock (a comment), since make installs it from
# client/. That flag replaces the default unsafe list, so setuptools is pinned as before.
lock:
	test -x $(BIN)/pip-compile || $(PIP) pip-tools
	rm -rf $(VENV)/lock-wheels
	$(BIN)/pip wheel --quiet --no-deps -w $(VENV)/lock-wheels ./client
	PIP_CONSTRAINT= $(BIN)/pip-compile --quiet --extra dev --generate-hashes --strip-extras \
		--no-emit-index-url --no-emit-find-links --find-links $(VENV)/lock-wheels \
		--unsafe-package parley-client --no-allow-unsafe $(LOCK_FLAGS) \
		--output-file requirements.lock pyproject.toml

bench: $(STAMP)
	$(BIN)/python bench/asr.py

clean:
	rm -rf $(VENV) parley-data .pytest_cache .ruff_cache
