# Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# The virtual environment's own tools, current and pinned (tests/test_faults.py checks the venv has them).
PIP_VERSION := 26.3
SETUPTOOLS_VERSION := 84.2.1
WORKERS ?= 2
FLASK := $(BIN)/flask --app app
# Java runs the Nu HTML Checker (vnu-jar, from npm: package.json) that tests/browser/test_accessibility.py uses.
DEBIAN_TEST_PACKAGES := chromium fonts-wqy-microhei poppler-utils zbar-tools default-jre-headless nodejs npm
# One extraction for `make catalogue` and tests/test_translations.py (which reads this line).
EXTRACT_OPTIONS := --mapping-file babel.cfg --keyword _l --keyword lazy_gettext --keyword say --no-location --sort-output --omit-header --ignore-dirs ".* tests bench migrations instance test-artifacts translations"

.PHONY: run test lint format system-packages node-packages clean translations catalogue

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt Makefile | $(BIN)/activate
	$(BIN)/python -m pip install --quiet --disable-pip-version-check pip==$(PIP_VERSION) setuptools==$(SETUPTOOLS_VERSION)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## run: create the venv, secrets and demo data on first start, then serve on http://127.0.0.1:$(PORT)
# The demo, on this machine only; production is docs/OPERATIONS.md (gunicorn.conf.py refuses demo logins elsewhere).
run: $(VENV)/.installed translations
	$(FLASK) init-db --demo
	@echo "Serving on http://127.0.0.1:$(PORT) (Ctrl-C stops)"
	$(BIN)/gunicorn --workers $(WORKERS) --bind 127.0.0.1:$(PORT) --access-logfile - 'app:create_app()'

## test: install what the tests need (Debian packages too, when root) and run the whole suite
test: $(VENV)/.installed system-packages node-packages translations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -c pyproject.toml -r . --severity-level medium --quiet
	$(BIN)/pytest

## system-packages: Chromium, the CJK font, poppler and zbar for the browser and PDF tests; Java, Node and npm for vnu
system-packages:
	@missing=""; for p in $(DEBIAN_TEST_PACKAGES); do \
	  case $$p in default-jre-headless) command -v java >/dev/null && continue;; nodejs) command -v node >/dev/null && continue;; \
	    npm) command -v npm >/dev/null && continue;; esac; \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
	  echo "Missing Debian packages:$$missing"; \
	  echo "Install them with: sudo apt-get install$$missing   (the browser, PDF and HTML tests are skipped until then)"; \
	fi

## node-packages: the npm test tools pinned in package-lock.json (vnu-jar), again whenever the lock file changes
node-packages: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json | system-packages
	@if command -v npm >/dev/null; then \
	  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	else \
	  echo "npm is missing: the HTML check (vnu) is skipped until then (make test installs it as root)"; \
	fi

## translations: compile the catalogues (translations/*/LC_MESSAGES/messages.po -> .mo, not kept in git)
translations: $(VENV)/.installed
	$(BIN)/pybabel compile --directory translations --domain messages --statistics

## catalogue: after changing user-visible text, extract it and update every catalogue; then translate the new entries
catalogue: $(VENV)/.installed
	$(BIN)/pybabel extract $(EXTRACT_OPTIONS) --output-file translations/messages.pot .
	$(BIN)/pybabel update --input-file translations/messages.pot --output-dir translations --domain messages \
	  --ignore-obsolete --no-fuzzy-matching --ignore-pot-creation-date
	rm translations/messages.pot

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .coverage htmlcov node_modules
