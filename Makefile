# geo_ssgp: two set-up commands on a fresh machine.
#   make run   - install, load the Gloucester sample and start the app
#   make test  - install everything (Python, front-end assets, Chromium) and run the whole suite

VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
PYTHON  ?= python3

.PHONY: install run test test-fast lint bench clean node-deps browser-deps postgres-deps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) web-assets

# Front-end libraries (Leaflet and plugins) pinned in web/package-lock.json, copied into
# web/static/vendor/ so maps work offline; the script's stamp makes it idempotent.
.PHONY: web-assets
web-assets: web/static/vendor/.stamp

web/static/vendor/.stamp: web/package.json web/package-lock.json web/vendor_assets.py
	$(PYTHON) web/vendor_assets.py

# Debian packages: node/npm for the front-end assets, chromium for the browser tests.
node-deps:
	@command -v npm >/dev/null 2>&1 || { apt-get update && apt-get install -y --no-install-recommends nodejs npm; }

browser-deps:
	@command -v chromium >/dev/null 2>&1 || { apt-get update && apt-get install -y --no-install-recommends chromium; }
	@command -v pdftoppm >/dev/null 2>&1 || { apt-get update && apt-get install -y --no-install-recommends poppler-utils; }

# PostgreSQL + PostGIS for the PostGIS store tests: the tests start a throwaway cluster of their
# own on a free local port (tests/conftest.py::postgis_url) and stop it when they finish, so
# Debian's default "main" cluster is not created (nothing is left running).
postgres-deps:
	@ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || { \
	  mkdir -p /etc/postgresql-common/createcluster.d \
	  && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.d/geo_ssgp.conf \
	  && apt-get update \
	  && apt-get install -y --no-install-recommends postgresql postgresql-postgis; }

web/static/vendor/.stamp: | node-deps

# Development mode: the public dev-* tokens work (serve prints a warning). For a real
# deployment set GEO_SSGP_TOKENS=token:role,... and run `geo-ssgp serve` without --dev.
run: install
	@echo "*** make run starts a DEVELOPMENT server: public tokens dev-analyst/dev-pcso/dev-viewer ***"
	$(VENV)/bin/geo-ssgp serve --dev

# Lint, then the whole suite (unit, real-data, notebook, API and headless-Chromium browser tests).
test: browser-deps postgres-deps install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest -q -n 2 --dist loadfile

# The quick loop: everything but the browser, notebook and other slow tests.
test-fast: install
	$(VENV)/bin/pytest -q -n 2 --dist loadfile -m "not slow"

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) var test-artifacts
