# biasprobe: every target sets up its own virtual environment first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SCALE  ?= default
# The exact versions that produced results/; `make install LOCK=` installs unlocked (pyproject's ranges).
LOCK   ?= constraints.txt

.PHONY: install test test-all all quick bench clean-cache clean

install: $(STAMP)

# Re-install only when the dependency list or the lock changes; then compile numba's kernels once
# (cached beside the sources) so the first command a user types does not wait 15-45 s for them.
$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(if $(LOCK),-c $(LOCK)) -e '.[dev]'
	$(PY) -m biasprobe.warm
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

test-all: $(STAMP)
	$(PY) -m pytest -q

all: $(STAMP)
	$(PY) -m biasprobe run all --scale $(SCALE)

quick: $(STAMP)
	$(PY) -m biasprobe run all --scale quick

results/%: $(STAMP) FORCE
	$(PY) -m biasprobe run $* --scale $(SCALE)

bench: $(STAMP)
	$(PY) -m biasprobe.bench

clean-cache:
	rm -rf .cache

clean: clean-cache
	rm -rf $(VENV) *.egg-info

FORCE:
