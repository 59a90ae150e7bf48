# Two commands on a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_OUT ?= nexus-out

.PHONY: demo test lint format bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Nexus needs Python 3.11 or newer")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade uv || true
	if $(VENV)/bin/uv --version >/dev/null 2>&1; then \
		$(VENV)/bin/uv pip install -q --python $(PY) -e '.[dev]'; \
	else \
		$(PY) -m pip install -q -e '.[dev]'; \
	fi
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/nexus ask core/samples/gapminder.csv "total population by continent in 2007" --out $(DEMO_OUT)

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: $(STAMP)
	$(PY) bench/charts.py
	$(PY) bench/ask.py
	$(PY) bench/sandbox.py
	$(PY) bench/ingress.py
	$(PY) bench/slack_ack.py

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .mypy_cache .ruff_cache
