# org-patching: every entry point installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt pyproject.toml | cksum | cut -d' ' -f1)
OUT ?= out
# The policy pack's own virtualenv: PulumiPolicy.yaml names `virtualenv: venv`, and the Pulumi CLI
# runs a local pack with policies/venv/bin/python without installing anything into it.
POLICY_VENV := policies/venv
POLICY_STAMP := $(POLICY_VENV)/.installed-$(shell cat policies/requirements.txt | cksum | cut -d' ' -f1)

.PHONY: setup preview test lint typecheck bench bench-report-100k bench-sweep-load bench-child-300 demo demo-faults fuzz clean

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

## The whole suite, spread over every core (pytest-xdist); `PYTEST_ARGS=-n0` runs it in one process.
PYTEST_ARGS ?= -n auto
test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

## Every entry point with at least 500 property-based cases each; prints the table of docs/reliability.md
## (written to $(OUT)/fuzz-table.md; FUZZ_UPDATE_DOC=1 rewrites the table in docs/reliability.md).
## Spread over every core by file (pytest-xdist `-n auto --dist loadfile`: each worker hands its counts to the
## controller, which assembles the one table). Some targets only: FUZZ_ARGS='-k test_fuzz_patch_events'
## (with FUZZ_UPDATE_DOC=1 only their rows are rewritten, the others kept); one process: FUZZ_ARGS=-n0.
## The run itself checks the documented table's rows at its end, so that test is left to `make test`.
FUZZ_ARGS ?=
fuzz: setup
	FUZZ_PROFILE=fuzz FUZZ_TABLE=$(OUT)/fuzz-table.md $(PY) -m pytest tests/fuzz -q -n auto --dist loadfile \
		--ignore=tests/fuzz/test_fuzz_reliability_doc.py $(FUZZ_ARGS)

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy components patchctl policies lambda_src devkit bench
	$(VENV)/bin/mypy deployments/org_patching_admin

bench: setup
	$(PY) -m bench

# The tag sweep at the issue's size: 50,000 instances in one account-region, projected against Lambda's
# limits (docs/reliability.md#load). Long on the emulator: not part of `make bench`.
bench-sweep-load: setup
	$(PY) -m bench.load_sweep --instances 50000

## A patch cycle under the documented faults; the run checks its own invariants (docs/reliability.md).
demo-faults: setup
	$(PY) -m devkit demo --accounts 2 --instances 40 --out $(OUT)/demo-faults \
		--faults throttle=0.3,deny=child-1,region-down=eu-west-1,lambda-timeout=1,automation-fail=1,seed=7

# The report at the issue's size: 100,000 instances x 50 items (generation alone takes minutes; the fleet is
# cached for 24 h). Its last lines: the queries alone in wall and CPU seconds next to the 10 s goal, with the load.
bench-report-100k: setup
	$(PY) -m bench.bench_report --instances 100000

# The child stack at 300 accounts x 4 regions in the shards docs/child-stack.md recommends (1, or 2 by OU):
# render seconds and peak memory per shard, each shard in its own process (the 1-shard run: 215 s CPU, 3.5 GB;
# 26 min wall on 2 cores shared by a load average of 15).
bench-child-300: setup
	$(PY) -m bench.shard_scale --accounts 300
	$(PY) -m bench.shard_scale --accounts 300 --shards 2

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache

## The policy pack's virtualenv (policies/venv) with its pinned requirements: needed before
## `--policy-pack policies` or `pulumi policy publish` (the CLI does not create it for a local pack).
.PHONY: policy-env
policy-env: $(POLICY_STAMP)

$(POLICY_STAMP): policies/requirements.txt
	test -x $(POLICY_VENV)/bin/python || $(PYTHON) -m venv $(POLICY_VENV)
	$(POLICY_VENV)/bin/python -m pip install --quiet --no-compile -r policies/requirements.txt
	rm -f $(POLICY_VENV)/.installed-*
	touch $@

## The release job's check: TAG must be policy-v<version in policies/PulumiPolicy.yaml> (Pulumi Cloud
## refuses to publish a version twice; a mismatch means the tag and the pack disagree).
.PHONY: policy-tag-check
policy-tag-check: setup
	@version=$$($(PY) -c "import yaml; print(yaml.safe_load(open('policies/PulumiPolicy.yaml'))['version'])"); \
	if [ "$(TAG)" != "policy-v$$version" ]; then \
	  echo "::error title=version mismatch::tag $(TAG) but policies/PulumiPolicy.yaml says $$version (expected tag policy-v$$version)"; \
	  exit 1; \
	fi; \
	echo "tag $(TAG) matches policies/PulumiPolicy.yaml ($$version)"
