# biasprobe: every target sets up its own virtual environment first.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SCALE  ?= default

.PHONY: install test test-all all quick bench clean-cache clean

install: $(STAMP)

# Re-install only when the dependency list changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

test-all: $(STAMP)
	$(PY) -m pytest -q

all: $(STAMP)
	$(PY) -m biasprobe run all --scale $(SCALE)

quick: $(STAMP)
	$(PY) -m biasprobe run all --scale quick --results-dir .cache/quick-results

results/%: $(STAMP) FORCE
	$(PY) -m biasprobe run $* --scale $(SCALE)

bench: $(STAMP)
	$(PY) -m biasprobe.bench

clean-cache:
	rm -rf .cache

clean: clean-cache
	rm -rf $(VENV) *.egg-info

FORCE:
