# Two commands on a fresh machine: `make install`, then `make run` or `make test`.
SHELL := /bin/bash
PY313 := $(shell ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.13*/bin/python3.13 2>/dev/null | tail -1)
PYTHON ?= $(if $(PY313),$(PY313),$(shell command -v python3.13))
UV := $(PYTHON) -m uv
VENV_PY := .venv/bin/python
export UV_PYTHON_DOWNLOADS := never

.PHONY: install lock run stop demo test test-fast lint format bench deploy-files

install:
	@test -n "$(PYTHON)" || { echo "Python 3.13 not found (pyenv or PATH)"; exit 1; }
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==0.13.9"
	$(UV) sync --frozen --compile-bytecode --python $(PYTHON)

lock:
	$(UV) lock --python $(PYTHON)

run:
	$(VENV_PY) -m kugelpos.devstack run

stop:
	$(VENV_PY) -m kugelpos.devstack stop

lint:
	$(VENV_PY) -m ruff check .
	$(VENV_PY) -m ruff format --check .

format:
	$(VENV_PY) -m ruff format .
	$(VENV_PY) -m ruff check --fix .

# `make test MONGODB_URI=mongodb://HOST:27017/?replicaSet=rs0`: every test stack uses that
# MongoDB (a replica set: transactions) instead of starting its own wire servers, each in
# databases of its own (docs/operations.md, "Tests against a MongoDB of your own"). make puts
# a variable given on its command line into the recipe's environment, where the tests read it.
# Two pytest workers, each with a session stack of its own: most of a stack test's time is
# spent waiting on processes, so two cores run two workers well (TEST_WORKERS=0: one process).
# A test file stays on one worker (its module fixtures, shops and private stacks, are made once).
TEST_WORKERS ?= 2

test: lint
	@if [ -n "$$MONGODB_URI" ]; then echo "tests against the MongoDB of MONGODB_URI"; fi
	$(VENV_PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# The tests that start no process of the local stack (pure ones: domain rules, parsers, the
# registry, the generated files), in under a minute. The plugin marks every test that uses a
# stack fixture `needs_stack`; `make test` runs both.
test-fast:
	$(VENV_PY) -m pytest -q -m "not needs_stack"

bench:
	@$(VENV_PY) -m kugelpos.bench

# Rewrites the per-service files under deploy/ from the service registry
# (tools/registry: kugelpos.registry.services).
deploy-files:
	$(VENV_PY) -m kugelpos.registry.deploy

# A demo tenant on the running `make run` stack (idempotent).
demo:
	$(VENV_PY) -m kugelpos.devstack.demo
