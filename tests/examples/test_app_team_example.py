"""The app-team example passes the org-patching pack through ``patchctl policy-check``, finds its
shard through the central stack's ``accountStacks``, reads that child stack's outputs, falls back
to the documented defaults only when no outputs can be read at all, stops with a clear message
when its account is not enrolled, and a broken copy of it is blocked (so the check is not vacuous)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from patchctl.cli import main
from patchctl.offline.analyzer import DEFAULT_PACK_DIR, InProcessAnalyzer, evaluate, load_pack
from patchctl.offline.mocks import AwsMocks
from patchctl.offline.render import Capture, render_program
from tests.pulumi_leftovers import collect_failed_program_leftovers

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "app-team"
CHILD_SCHEMA = ROOT / "schemas" / "child-outputs.schema.json"
CENTRAL_STACK = "acme/org-patching/central"
CHILD_STACK = "acme/org-patching/child"
ACCOUNT = "222222222222"
OTHER_ACCOUNT = "333333333333"


def policy_check(program: Path, out: Path) -> tuple[int, dict[str, Any]]:
    code = main(["policy-check", "--program", str(program), "--stack", "dev", "--json", str(out), "--quiet"])
    return code, json.loads(out.read_text())


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, Any]]:
    return policy_check(EXAMPLE, tmp_path_factory.mktemp("app") / "app.json")


def one(document: dict[str, Any], type_token: str) -> dict[str, Any]:
    (found,) = [r for r in document["resources"] if r["type"] == type_token]
    return found


def test_example_passes_policy_check(checked: tuple[int, dict[str, Any]]) -> None:
    code, document = checked
    assert code == 0
    assert document["violations"] == []
    assert document["summary"]["policiesRun"] is True
    assert list(document["summary"]["byAccount"]) == [ACCOUNT], "the provider pins the account"
    assert {r["region"] for r in document["resources"] if r["type"].startswith("aws:")} == {"eu-west-1"}


def test_instance_and_asg_carry_what_the_pack_asks_for(checked: tuple[int, dict[str, Any]]) -> None:
    _, document = checked
    instance = one(document, "aws:ec2/instance:Instance")["inputs"]
    assert instance["iamInstanceProfile"] == "InstanceProfileforPatching"
    assert instance["tags"]["environment"] == "Dev"
    template = one(document, "aws:ec2/launchTemplate:LaunchTemplate")["inputs"]
    assert template["iamInstanceProfile"] == {"name": "InstanceProfileforPatching"}
    instance_spec = next(s for s in template["tagSpecifications"] if s["resourceType"] == "instance")
    assert instance_spec["tags"]["environment"] == "Dev"
    group = one(document, "aws:autoscaling/group:Group")["inputs"]
    assert group["launchTemplate"]["id"].startswith("lt-")
    assert {"key": "environment", "value": "Dev", "propagateAtLaunch": True} in group["tags"]
    provider = one(document, "pulumi:providers:aws")["inputs"]
    assert json.loads(provider["ignoreTags"])["keys"] == ["Patch Group", "maintenance_window"]


def test_without_any_outputs_the_documented_defaults_are_used(checked: tuple[int, dict[str, Any]]) -> None:
    # policy-check reads no other stack: no accountStacks, so the configured childStack, which has none either.
    _, document = checked
    assert document["outputs"]["instanceProfile"] == "InstanceProfileforPatching"
    assert document["outputs"]["maintenanceWindow"] == "Default_maintenance_window"
    assert document["outputs"]["childOutputsUsed"] == [], "no output is claimed as read"
    assert document["outputs"]["childStack"] == CHILD_STACK
    assert any(CENTRAL_STACK in w for w in document["summary"]["warnings"])


def window(window_id: str) -> dict[str, Any]:
    return {
        "id": window_id,
        "schedule": "cron(0 5 ? * FRI *)",
        "scheduleTimezone": "UTC",
        "durationHours": 4,
        "cutoffHours": 1,
        "operation": "Install",
        "rebootOption": "RebootIfNeeded",
    }


def child_outputs(windows: tuple[str, ...] = ("Default", "Dev"), region: str = "eu-west-1") -> dict[str, Any]:
    """A child stack's outputs as ``schemas/child-outputs.schema.json`` describes them: this
    account, in the example's region, with the given maintenance windows."""
    baselines = {"AMAZON_LINUX_2023": "pb-0123456789abcdef0"}
    return {
        "outputsVersion": "1.0",
        "orgId": "o-exampleorg01",
        "centralAccountId": "111111111111",
        "tagContract": {
            "environmentTag": "environment",
            "environments": ["Dev", "Test", "Prod"],
            "patchGroupTag": "Patch Group",
            "patchGroups": ["Default", "Dev", "Test", "Prod"],
            "maintenanceWindowTag": "maintenance_window",
            "maintenanceWindows": [f"{w}_maintenance_window" for w in ("Default", "Dev", "Test", "Prod")],
            "exemptionTags": ["install_patch", "patch_install"],
            "exemptionValue": "no",
        },
        "accounts": {
            ACCOUNT: {
                "name": "workloads-dev",
                "homeRegion": "eu-west-1",
                "instanceProfile": {
                    "name": "InstanceProfileforPatching",
                    "arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/InstanceProfileforPatching",
                },
                "automationExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/org-patching-automation",
                "regions": {
                    region: {
                        "maintenanceWindows": {
                            f"{w}_maintenance_window": window(f"mw-0{index:016x}") for index, w in enumerate(windows)
                        },
                        "patchGroups": {group: baselines for group in ("Default", "Dev", "Test", "Prod")},
                        "runbooks": {  # the hub's shared copies, by ARN (child outputs 1.2)
                            "standalone": f"arn:aws:ssm:{region}:111111111111:document/OrgPatching-PatchInstances",
                            "autoScalingGroups": (
                                f"arn:aws:ssm:{region}:111111111111:document/OrgPatching-PatchAutoScalingGroups"
                            ),
                        },
                        "windowTaggingFunction": "org-patching-window-tagging",
                    }
                },
            }
        },
    }


#: The central stack's output the example reads: account id → child stack (shard). Values may be
#: a bare stack name (qualified with the central stack's org/project) or fully qualified.
ACCOUNT_STACKS = {ACCOUNT: "child", OTHER_ACCOUNT: "acme/org-patching/child-prod"}


def render_with(
    outputs: dict[str, Any],
    account_stacks: dict[str, str] | None = ACCOUNT_STACKS,
    child: str = CHILD_STACK,
    config: Path | None = None,
) -> Capture:
    # policy-check's own mocks (they accept an ASG's list-form tags), plus both stacks' outputs.
    central = {"outputsVersion": "1.1", "accountStacks": account_stacks} if account_stacks is not None else {}
    mocks = AwsMocks(default_account=ACCOUNT, stack_outputs={CENTRAL_STACK: central, child: outputs}, strict=False)
    return render_program(EXAMPLE, stack="dev", mocks=mocks, config_file=config)


def config_without_child_stack(tmp_path: Path) -> Path:
    lines = (EXAMPLE / "Pulumi.dev.yaml").read_text().splitlines(keepends=True)
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text("".join(line for line in lines if "app-team-example:childStack" not in line))
    return path


def test_child_outputs_are_read_through_the_stack_reference() -> None:
    # policy-check has no way to feed another stack's outputs (it renders with none), so this
    # runs the same render + pack directly, with the central and child outputs in the mocks.
    outputs = child_outputs()
    outputs["accounts"][ACCOUNT]["instanceProfile"]["name"] = "PaymentsPatchingProfile"  # proves it is read
    capture = render_with(outputs)
    assert capture.warnings == []
    assert capture.outputs["childStack"] == CHILD_STACK, "the bare name 'child' is qualified like the central stack"

    assert capture.outputs["instanceProfile"] == "PaymentsPatchingProfile"
    assert capture.outputs["maintenanceWindow"] == "Dev_maintenance_window"
    assert capture.outputs["maintenanceWindowsHere"] == ["Default_maintenance_window", "Dev_maintenance_window"]
    assert capture.outputs["childOutputsUsed"] == ["accounts", "outputsVersion", "tagContract"]
    assert capture.one("aws:ec2/instance:Instance").inputs["iamInstanceProfile"] == "PaymentsPatchingProfile"
    template = capture.one("aws:ec2/launchTemplate:LaunchTemplate")
    assert template.inputs["iamInstanceProfile"] == {"name": "PaymentsPatchingProfile"}
    analyzer = InProcessAnalyzer(load_pack(DEFAULT_PACK_DIR))
    try:
        result = evaluate(capture.resources, analyzer, project=capture.project, stack=capture.stack, preview=False)
    finally:
        analyzer.close()
    assert result.violations == []


def test_the_central_map_picks_the_shard(tmp_path: Path) -> None:
    # Another account's shard, fully qualified in the map; no childStack configured.
    other = child_outputs()
    other["accounts"] = {OTHER_ACCOUNT: other["accounts"].pop(ACCOUNT)}
    config = config_without_child_stack(tmp_path)
    (tmp_path / "Pulumi.dev.yaml").write_text(config.read_text().replace(ACCOUNT, OTHER_ACCOUNT))
    capture = render_with(other, child="acme/org-patching/child-prod", config=config)
    assert capture.outputs["childStack"] == "acme/org-patching/child-prod"
    assert capture.outputs["childOutputsUsed"] == ["accounts", "outputsVersion", "tagContract"]


def program_failure(render: Callable[[], Capture]) -> tuple[str, str]:
    """(exception type, message) of a program that stops inside an ``apply`` (what the SDK leaves
    behind is collected at once: ``tests/pulumi_leftovers.py`` says why)."""
    try:
        render()
    except Exception as error:  # the program's own exception type
        failure = (type(error).__name__, str(error))
    else:
        pytest.fail("the program did not stop")
    collect_failed_program_leftovers()
    return failure


def not_enrolled_message(**kwargs: Any) -> str:
    kind, message = program_failure(lambda: render_with(**kwargs))
    assert kind == "NotEnrolledError", message
    assert "\n" not in message
    return message


def test_an_account_missing_from_the_central_map_stops_the_program() -> None:
    message = not_enrolled_message(outputs=child_outputs(), account_stacks={OTHER_ACCOUNT: "child-prod"})
    assert message.startswith(f"account {ACCOUNT} is not enrolled in org-patching: the central stack {CENTRAL_STACK}")
    assert "Ask the central cloud team to enroll it" in message


def test_an_account_missing_from_the_child_outputs_stops_the_program() -> None:
    # A central stack without the map: the configured childStack is read, and does not list the account.
    outputs = child_outputs()
    outputs["accounts"] = {OTHER_ACCOUNT: outputs["accounts"][ACCOUNT]}
    message = not_enrolled_message(outputs=outputs, account_stacks=None)
    assert message.startswith(f"account {ACCOUNT} is not enrolled in org-patching: the child stack {CHILD_STACK}")


def test_a_configured_child_stack_that_disagrees_with_the_map_stops_the_program() -> None:
    message = not_enrolled_message(outputs=child_outputs(), account_stacks={ACCOUNT: "child-eu"})
    assert "app-team-example:childStack is acme/org-patching/child" in message
    assert "puts account 222222222222 in acme/org-patching/child-eu: remove childStack" in message


def test_without_a_map_or_a_child_stack_the_program_says_what_to_set(tmp_path: Path) -> None:
    config = config_without_child_stack(tmp_path)
    _, message = program_failure(lambda: render_with(child_outputs(), account_stacks=None, config=config))
    assert "exports no accountStacks" in message and "set app-team-example:childStack" in message


def test_without_an_own_window_here_the_default_window_patches() -> None:
    # Dev has a window in us-east-1 only: in eu-west-1 (the example's region) the default one applies.
    capture = render_with(child_outputs(windows=("Default",)))
    assert capture.outputs["maintenanceWindow"] == "Default_maintenance_window"
    other_region = render_with(child_outputs(windows=("Default", "Dev"), region="us-east-1"))
    assert other_region.outputs["maintenanceWindow"] == "Default_maintenance_window"
    assert other_region.outputs["instanceProfile"] == "InstanceProfileforPatching"


@pytest.mark.skipif(not CHILD_SCHEMA.exists(), reason="schemas/child-outputs.schema.json is not in this checkout")
def test_the_outputs_the_example_reads_match_the_child_schema() -> None:
    """The fake outputs above are the real contract, so the paths the example reads exist."""
    schema = json.loads(CHILD_SCHEMA.read_text())
    jsonschema.Draft202012Validator(schema).validate(child_outputs())


@pytest.mark.parametrize(
    ("remove", "policy"),
    [
        (
            "    iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(name=profile_name),\n",
            "launch-template-instance-profile",
        ),
        ("    iam_instance_profile=profile_name,\n", "ec2-instance-profile"),
    ],
)
def test_a_broken_copy_is_blocked(tmp_path: Path, remove: str, policy: str) -> None:
    program = tmp_path / "app-team"
    shutil.copytree(EXAMPLE, program, ignore=shutil.ignore_patterns("__pycache__", "venv"))
    source = (program / "__main__.py").read_text()
    assert remove in source
    (program / "__main__.py").write_text(source.replace(remove, ""))
    code, document = policy_check(program, tmp_path / "broken.json")
    assert code == 1
    assert policy in {v["policy"] for v in document["violations"] if v["level"] == "mandatory"}
