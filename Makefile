# The two commands of the README: `make run` (service on SQLite with demo data) and `make test` (everything).
PY ?= python3
VENV := .venv

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

.PHONY: install run test
install: $(VENV)/.installed

run: install
	$(VENV)/bin/eco-claims serve --demo

test: install
	bash tools/system-packages.sh
	bash tools/test.sh
