"""Central API calls for one emergency wave, as the number of target accounts grows.

Ours: the deployed ASL (``components/hub/emergency_patching.asl.json``) runs on moto's Step
Functions interpreter with the project's SSM Automation extension; every Task the state machine
schedules is a central API call, counted from the execution history. One wave = validate +
one ``StartAutomationExecution`` per runbook (``TargetLocations`` carry up to 50 accounts or
OUs each, 100 locations per call) + ``DescribeAutomationExecutions`` polls + one
``DescribeAutomationStepExecutions`` (failed locations) per runbook + one ``PutEvents``.
Polls depend on how long the wave runs (one per ``poll_seconds``), not directly on the number of
accounts. Two settings are measured:

* **at the config defaults** (``emergency.targetLocationMaxConcurrency`` 10, ``pollSeconds`` 60):
  SSM runs 10 account-Regions at a time, and each poll stands for one 60-s interval in which the
  running account-Regions finish (one tick of the emulator's SSM Automation per poll; a real
  patch run of more than 60 s means more polls);
* **best case** (``TargetLocationMaxConcurrency`` 100%): every location finishes in one tick, so
  the counts isolate the part that could scale with accounts. It is labelled as the best case.

Seed: the emergency Lambda pages ``ListAccounts`` (20 per page) and then, serially for every
account, ``AssumeRole`` + ``Invoke`` of the task Lambda (+ a second ``Invoke`` for ASGs).
"""

from __future__ import annotations

import collections
import json
import math
import time
import uuid

import boto3

from components import naming
from components.config import BootstrapConfig, CentralConfig
from components.runbooks import render_runbook
from devkit.demo.emergency import deploy_emergency_hub
from devkit.emulator import Emulator
from devkit.moto_extensions.ssm.models import automation

HUB, REGION = "123456789012", "us-east-1"
REGIONS = ["us-east-1", "eu-west-1"]
SIZES = (10, 100, 1000)
#: The sizes the defaults table is measured at (issue 19: quote calls per wave at the defaults).
DEFAULT_SIZES = (10, 100)
DEFAULT_CONCURRENCY = "10"  # components/config.py EmergencyConfig.target_location_max_concurrency


def _state_machine(accounts: list[str]) -> str:
    """The hub as the demo deploys it on the emulator, with the real runbooks (so every
    parameter a wave passes is checked against what the runbooks declare)."""
    cfg = CentralConfig(
        stack="central",
        org_id="o-abcdefghij",
        central_account_id=HUB,
        home_region=REGION,
        regions=REGIONS,
        accounts=accounts[:1],
        bootstrap=BootstrapConfig(enabled=False),  # only the emergency hub is deployed here
    )
    runbooks = {name: render_runbook(name) for name in (naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG)}
    return deploy_emergency_hub(boto3.session.Session(region_name=REGION), cfg, runbooks).machine_arn


def run_wave(
    accounts: int, include_asg: bool, concurrency: str = "100%"
) -> tuple[collections.Counter[str], int, float]:
    """Central calls made by the state machine for one wave; child executions created; seconds."""
    ids = [f"{100000000000 + i:012d}" for i in range(accounts)]
    with Emulator():  # SSM Automation, and the validation Lambda's real handler, on moto
        machine = _state_machine(ids)
        sfn = boto3.client("stepfunctions")
        request = {
            "patching_operation": "Install",
            "include_asg": "Yes" if include_asg else "No",
            "targets": {"accounts": ids, "regions": REGIONS},
            "waves": ["Dev"],
            "target_location_max_concurrency": concurrency,
            "target_location_max_errors": "10%",
            "poll_seconds": 0,
        }
        started = time.perf_counter()
        execution = sfn.start_execution(stateMachineArn=machine, name=str(uuid.uuid4()), input=json.dumps(request))[
            "executionArn"
        ]
        while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        if described["status"] != "SUCCEEDED":
            raise SystemExit(f"bench wave failed: {described.get('error')}: {described.get('cause')}")
        calls: collections.Counter[str] = collections.Counter()
        paginator = sfn.get_paginator("get_execution_history")
        for page in paginator.paginate(executionArn=execution):
            for event in page["events"]:
                if event["type"] == "TaskScheduled":
                    details = event["taskScheduledEventDetails"]
                    calls[f"{details['resourceType'].removeprefix('aws-sdk:')}:{details['resource']}"] += 1
        children = sum(
            len([e for e in automation.executions_in(a, r) if "ParentAutomationExecutionId" in e])
            for a in ids
            for r in REGIONS
        )
    return calls, children, elapsed


def seed_calls(accounts: int, include_asg: bool) -> int:
    """The seed's emergency Lambda: ListAccounts pages, then per account AssumeRole + Invoke(s)."""
    return math.ceil(accounts / 20) + accounts * (2 + int(include_asg))


def defaults_table() -> None:
    """Calls per wave at the config defaults (TargetLocationMaxConcurrency 10, one poll per 60 s)."""
    print("AT THE CONFIG DEFAULTS: central API calls for ONE emergency wave (2 Regions per account,")
    print("TargetLocationMaxConcurrency 10, pollSeconds 60: each poll = one 60-s interval)")
    header = (
        f"{'accounts':>8} {'asg':>4} | {'ours':>5} {'start':>5} {'poll':>4} {'steps':>5} {'other':>5} | {'minutes':>7}"
    )
    print(header)
    print("-" * len(header))
    for include_asg in (False, True):
        for size in DEFAULT_SIZES:
            calls, _, _ = run_wave(size, include_asg, DEFAULT_CONCURRENCY)
            total = sum(calls.values())
            start = calls["ssm:startAutomationExecution"]
            poll = calls["ssm:describeAutomationExecutions"]
            steps = calls["ssm:describeAutomationStepExecutions"]
            polls_per_runbook = poll // max(start, 1)
            print(
                f"{size:>8} {'yes' if include_asg else 'no':>4} | {total:>5} {start:>5} {poll:>4} {steps:>5} "
                f"{total - start - poll - steps:>5} | {polls_per_runbook:>7}"
            )
    print("minutes = polls per runbook x 60 s: the wave's length if each batch of 10 finishes within a poll")
    print()


def main() -> None:
    defaults_table()
    print("BEST CASE (TargetLocationMaxConcurrency 100%, every location done in one poll):")
    print("central API calls for ONE emergency wave (2 Regions per account)")
    header = (
        f"{'accounts':>8} {'asg':>4} | {'ours':>5} {'start':>5} {'poll':>4} {'steps':>5} {'other':>5} | "
        f"{'seed':>6} {'seed/ours':>9} | {'child runs':>10} {'wall s':>7}"
    )
    print(header)
    print("-" * len(header))
    ours_by_size: dict[tuple[int, bool], int] = {}
    for include_asg in (False, True):
        for size in SIZES:
            calls, children, elapsed = run_wave(size, include_asg)
            total = sum(calls.values())
            start = calls["ssm:startAutomationExecution"]
            poll = calls["ssm:describeAutomationExecutions"]
            steps = calls["ssm:describeAutomationStepExecutions"]
            ours_by_size[(size, include_asg)] = total
            seed = seed_calls(size, include_asg)
            print(
                f"{size:>8} {'yes' if include_asg else 'no':>4} | {total:>5} {start:>5} {poll:>4} {steps:>5} "
                f"{total - start - poll - steps:>5} | {seed:>6} {seed / total:>9.1f} | {children:>10} {elapsed:>7.2f}"
            )
    for include_asg in (False, True):
        growth = ours_by_size[(SIZES[-1], include_asg)] / ours_by_size[(SIZES[0], include_asg)]
        seed_growth = seed_calls(SIZES[-1], include_asg) / seed_calls(SIZES[0], include_asg)
        print(
            f"growth {SIZES[0]} -> {SIZES[-1]} accounts (asg {'yes' if include_asg else 'no'}): "
            f"ours x{growth:.2f}, seed x{seed_growth:.1f}"
        )
    print(
        "ours: start = StartAutomationExecution per runbook (<=5,000 accounts/OUs each); poll = "
        "DescribeAutomationExecutions, one per poll_seconds while the wave runs (time, not accounts; here "
        "every location finished in one SSM tick); steps = failed-location listing per runbook; other = "
        "validate Lambda + PutEvents. seed: serial inside one 60 s Lambda, so ~1,000 accounts cannot finish."
    )


if __name__ == "__main__":
    main()
