# One-command entry points. `make demo` and `make test` create the virtual environment first.
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)

# make demo PORT_BASE=9000: sidecar on 9000, PayTabs simulator on 9001, WordPress on 9002.
PORT_BASE ?= 8000
demo: $(STAMP)
	$(VENV)/bin/sidecar demo --port-base $(PORT_BASE)

test: $(STAMP)
	bash scripts/test.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench: $(STAMP)
	$(VENV)/bin/sidecar bench

# The README's screenshots (English and Arabic, phone and desktop) into docs/screenshots/.
screenshots: $(STAMP)
	$(VENV)/bin/python scripts/screenshots.py --out docs/screenshots

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
