# The two commands of the README: `make run` (service on SQLite with demo data) and `make test` (everything).
PY ?= python3
VENV := .venv
VENDOR := web/static/vendor/.installed

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

# htmx, bpmn-js and echarts from the npm registry (package-lock.json) into web/static/vendor/ (git-ignored)
$(VENDOR): package.json package-lock.json tools/web-assets.sh tools/build-modeler.mjs $(wildcard web/static/js/modeler*.js) \
		web/static/js/spiffworkflow-moddle.json
	bash tools/web-assets.sh

.PHONY: install run test
install: $(VENV)/.installed $(VENDOR)

run: install
	$(VENV)/bin/eco-claims serve --demo

test: install
	bash tools/system-packages.sh
	bash tools/test.sh
