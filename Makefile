# org-patching: every entry point installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt pyproject.toml | cksum | cut -d' ' -f1)
OUT ?= out

.PHONY: setup preview test lint typecheck bench demo fuzz clean

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

## A full patch cycle for a simulated organization on the local AWS emulator (moto).
demo: setup
	$(PY) -m patchctl demo --out $(OUT)/demo

test: setup
	$(PY) -m pytest

## Every entry point with at least 500 property-based cases each; prints the table of docs/reliability.md
## (written to $(OUT)/fuzz-table.md; FUZZ_UPDATE_DOC=1 rewrites the table in docs/reliability.md).
## The run itself checks the documented table's rows at its end, so that test is left to `make test`.
fuzz: setup
	FUZZ_PROFILE=fuzz FUZZ_TABLE=$(OUT)/fuzz-table.md $(PY) -m pytest tests/fuzz -q \
		--ignore=tests/fuzz/test_fuzz_reliability_doc.py

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy components patchctl policies lambda_src
	$(VENV)/bin/mypy deployments/org_patching_admin

bench: setup
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
