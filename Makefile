# Two commands from a fresh clone: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
WORKERS ?= 2
FLASK := $(BIN)/flask --app app
DEBIAN_TEST_PACKAGES := chromium fonts-wqy-microhei poppler-utils zbar-tools
# One extraction for `make catalogue` and tests/test_translations.py (which reads this line).
EXTRACT_OPTIONS := --mapping-file babel.cfg --keyword _l --keyword lazy_gettext --no-location --sort-output --omit-header --ignore-dirs ".* tests bench migrations instance test-artifacts translations"

.PHONY: run test lint format system-packages clean translations catalogue

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/activate
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## run: create the venv, secrets and demo data on first start, then serve on http://127.0.0.1:$(PORT)
run: $(VENV)/.installed translations
	$(FLASK) init-db --demo
	@echo "Serving on http://127.0.0.1:$(PORT) (Ctrl-C stops)"
	$(BIN)/gunicorn --workers $(WORKERS) --bind 127.0.0.1:$(PORT) --access-logfile - 'app:create_app()'

## test: install what the tests need (Debian packages too, when root) and run the whole suite
test: $(VENV)/.installed system-packages translations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

## system-packages: Chromium, the CJK font, poppler and zbar for the browser and PDF tests
system-packages:
	@missing=""; for p in $(DEBIAN_TEST_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else \
	  echo "Missing Debian packages:$$missing"; \
	  echo "Install them with: sudo apt-get install$$missing   (the browser and PDF tests are skipped until then)"; \
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
	rm -rf $(VENV) .pytest_cache .ruff_cache .coverage htmlcov
