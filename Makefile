# org-patching: every entry point installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt pyproject.toml | cksum | cut -d' ' -f1)
OUT ?= out

.PHONY: setup preview test lint typecheck bench demo clean

setup: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

## Render both example stacks offline and run the policy pack on them.
preview: setup
	mkdir -p $(OUT)
	$(PY) -m patchctl preview --stack central --config Pulumi.central.yaml --json $(OUT)/preview-central.json
	$(PY) -m patchctl preview --stack child --config Pulumi.child.yaml --hub-json $(OUT)/preview-central.json --json $(OUT)/preview-child.json

## A full patch cycle for a simulated organization on the local AWS emulator (moto): the dev kit's demo.
demo: setup
	$(PY) -m devkit demo --out $(OUT)/demo

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy components patchctl policies lambda_src devkit bench
	$(VENV)/bin/mypy deployments/org_patching_admin

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
