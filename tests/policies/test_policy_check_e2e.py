"""``patchctl policy-check`` end to end: real app-team programs rendered under mocks, the pack's
real ``__main__.py`` driven through the SDK's analyzer the way the engine drives it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from google.protobuf import json_format
from pulumi.runtime.mocks import MockResourceArgs
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from patchctl.cli import main
from patchctl.commands.policy_check import check
from patchctl.offline.analyzer import InProcessAnalyzer, evaluate, load_pack
from patchctl.offline.mocks import AwsMocks
from patchctl.offline.render import Capture, render, render_program

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PACK = Path(__file__).resolve().parents[2] / "policies"


def _run(tmp_path: Path, *argv: str) -> tuple[int, dict[str, Any] | None]:
    out = tmp_path / "result.json"
    code = main(["policy-check", *argv, "--quiet", "--json", str(out)])
    return code, json.loads(out.read_text()) if out.exists() else None


def _policies(document: dict[str, Any]) -> set[str]:
    return {violation["policy"] for violation in document["violations"]}


def test_untagged_instance_exits_1_and_names_the_policy(tmp_path: Path) -> None:
    code, document = _run(tmp_path, "--program", str(FIXTURES / "app_untagged"))
    assert code == 1
    assert document is not None
    assert _policies(document) == {"ec2-instance-patch-tags", "ec2-instance-profile"}
    tags = next(v for v in document["violations"] if v["policy"] == "ec2-instance-patch-tags")
    assert tags["level"] == "mandatory"
    assert tags["urn"].endswith("::aws:ec2/instance:Instance::web")
    assert "EC2 instance 'web' would not be patched: missing tag 'Patch Group'" in tags["message"]
    assert document["stack"] == "dev"
    assert set(document) >= {"stack", "resources", "outputs", "violations", "summary"}
    assert document["summary"]["violations"] == {"mandatory": 2, "advisory": 0}
    web = next(r for r in document["resources"] if r["name"] == "web")
    assert set(web) == {"urn", "type", "name", "parent", "provider", "account", "region", "inputs"}


def test_prod_instance_with_profile_exits_0(tmp_path: Path) -> None:
    code, document = _run(tmp_path, "--program", str(FIXTURES / "app_prod"), "--stack", "prod")
    assert code == 0
    assert document is not None and document["violations"] == []
    web = next(r for r in document["resources"] if r["name"] == "web")
    assert web["account"] == "222222222222" and web["region"] == "eu-west-1"
    assert web["inputs"]["tags"]["environment"] == "Prod"


def test_fleet_joins_templates_groups_and_node_groups(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, document = _run(tmp_path, "--program", str(FIXTURES / "app_fleet"))
    assert code == 0, document and document["violations"]
    assert "warning: no mock for invoke aws:ec2/getSecurityGroup:getSecurityGroup" in capsys.readouterr().err


def test_policy_config_overrides_through_the_engine_path(tmp_path: Path) -> None:
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"asg-patch-tags": {"environments": ["Prod"]}}))
    code, document = _run(tmp_path, "--program", str(FIXTURES / "app_fleet"), "--policy-config", str(config))
    assert code == 1 and document is not None
    assert _policies(document) == {"asg-patch-tags"}
    assert "(allowed: Prod)" in document["violations"][0]["message"]
    config.write_text(json.dumps({"all": "advisory"}))
    code, document = _run(tmp_path, "--program", str(FIXTURES / "app_untagged"), "--policy-config", str(config))
    assert code == 0 and document is not None
    assert {v["level"] for v in document["violations"]} == {"advisory"} and len(document["violations"]) == 2
    config.write_text(json.dumps({"all": "advisory", "ec2-instance-profile": "disabled"}))
    code, document = _run(tmp_path, "--program", str(FIXTURES / "app_untagged"), "--policy-config", str(config))
    assert document is not None and _policies(document) == {"ec2-instance-patch-tags"}


def test_remediate_level_adds_the_managed_tags() -> None:
    capture = render_program(FIXTURES / "app_prod", stack="prod", mocks=AwsMocks(strict=False))
    result = check(capture, PACK, {"ec2-instance-patch-tags": "remediate"}, grpc=False)
    [remediation] = result.remediations
    assert remediation.policy == "ec2-instance-patch-tags" and remediation.urn.endswith("::web")
    assert remediation.properties["tags"] == {
        "Name": "web",
        "environment": "Prod",
        "Patch Group": "Prod",
        "maintenance_window": "Default_maintenance_window",
    }
    assert result.violations == []
    # nothing to derive from: still reported, as mandatory (the SDK downgrades remediate)
    capture = render_program(FIXTURES / "app_untagged", mocks=AwsMocks(strict=False))
    result = check(capture, PACK, {"all": "remediate"}, grpc=False)
    assert result.remediations == []
    assert {(v.policy, v.level) for v in result.violations} == {
        ("ec2-instance-patch-tags", "mandatory"),
        ("ec2-instance-profile", "mandatory"),
    }


@pytest.mark.parametrize(
    ("argv", "reason"),
    [
        (["--program", "/nonexistent/app"], "not a directory"),
        (["--program", str(FIXTURES / "app_prod"), "--config", "/nonexistent.yaml"], "config file does not exist"),
        (["--program", str(FIXTURES / "app_untagged"), "--policy-config", "{bad"], "policy config file does not exist"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], reason: str
) -> None:
    code, document = _run(tmp_path, *argv)
    assert code == 2 and document is None
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ") and reason in err


def test_invalid_policy_config_and_failing_program_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "policy.json"
    config.write_text(json.dumps({"ec2-instance-patch-tags": {"environments": ["Staging"]}}))
    code, _ = _run(tmp_path, "--program", str(FIXTURES / "app_untagged"), "--policy-config", str(config))
    assert code == 2
    assert "ec2-instance-patch-tags.environments.0" in capsys.readouterr().err
    program = tmp_path / "broken"
    program.mkdir()
    (program / "Pulumi.yaml").write_text("name: broken\nruntime: python\n")
    (program / "__main__.py").write_text("import pulumi\npulumi.Config().require('missing')\n")
    code, _ = _run(tmp_path, "--program", str(program))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "the program failed" in err[0] and "missing" in err[0]


class PreviewMocks(AwsMocks):
    """At ``pulumi preview`` the provider computes nothing: ids, autonames and ARNs are unknown.
    Returning only the inputs makes every computed output unknown to its consumers."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        resource_id, _ = super().new_resource(args)
        return resource_id, dict(args.inputs)


@pytest.mark.parametrize("program", ["app_prod", "app_fleet", "app_untagged"])
def test_unknowns_at_preview_do_not_crash_or_invent_violations(program: str) -> None:
    stack = "prod" if program == "app_prod" else "dev"
    capture = render_program(FIXTURES / program, stack=stack, mocks=PreviewMocks(strict=False), preview=True)
    result = check(capture, PACK, None, grpc=False)
    assert not [v for v in result.violations if "during preview" in v.message]
    expected = {"ec2-instance-patch-tags", "ec2-instance-profile"} if program == "app_untagged" else set()
    assert {v.policy for v in result.mandatory} == expected
    if program == "app_prod":  # the profile's name really was unknown: the joins went by dependency
        web = next(r for r in capture.resources if r.name == "web")
        assert json_format.MessageToDict(web.inputs_struct)["iamInstanceProfile"] == UNKNOWN_STRING_VALUE
        assert web.property_dependencies["iamInstanceProfile"][0].endswith("InstanceProfile::app-instance")


def test_grpc_and_in_process_give_identical_results() -> None:
    config = {"asg-patch-tags": {"environments": ["Prod"]}, "ec2-instance-patch-tags": "remediate"}
    for program in ("app_untagged", "app_fleet"):
        capture = render_program(FIXTURES / program, mocks=AwsMocks(strict=False))
        in_process = check(capture, PACK, config, grpc=False)
        over_grpc = check(capture, PACK, config, grpc=True)
        assert in_process.violations == over_grpc.violations
        assert in_process.remediations == over_grpc.remediations
        assert in_process.violations  # the comparison is not vacuous


# --- guard rails through the analyzer --------------------------------------------------------------------


def _evaluate(capture: Capture, config: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    analyzer = InProcessAnalyzer(load_pack(PACK))
    result = evaluate(
        capture.resources, analyzer, project=capture.project, stack=capture.stack, user_config=config, preview=False
    )
    return sorted((v.policy, v.urn.rsplit("::", 1)[-1]) for v in result.mandatory)


def _careless_program() -> None:
    """org-patching code that forgot every convention once."""
    provider = aws.Provider(
        "222222222222",
        region="us-east-1",
        allowed_account_ids=["222222222222"],
        assume_roles=[
            aws.ProviderAssumeRoleArgs(role_arn="arn:aws:iam::222222222222:role/OrganizationAccountAccessRole")
        ],
    )
    opts = pulumi.ResourceOptions(provider=provider)
    aws.s3.Bucket("logs", opts=opts)
    aws.kms.Key("key", opts=opts)
    aws.iam.Policy(
        "admin", policy=json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}), opts=opts
    )
    aws.iam.Role(
        "cross",
        assume_role_policy=json.dumps(
            {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "333333333333"}, "Action": "sts:AssumeRole"}]}
        ),
        opts=opts,
    )
    aws.ssm.MaintenanceWindow("window", schedule="cron(0 5 ? * FRI *)", duration=2, cutoff=3, opts=opts)
    aws.ssm.PatchBaseline("orphan", operating_system="AMAZON_LINUX_2023")  # no provider


def test_guard_rails_name_each_mistake_in_an_org_patching_stack() -> None:
    capture = render(_careless_program, mocks=AwsMocks(strict=False), project="org-patching", stack="child")
    assert _evaluate(capture) == [
        ("iam-no-admin-statements", "admin"),
        ("iam-trust-org-scoped", "cross"),
        ("kms-key-rotation", "key"),
        ("maintenance-window-cutoff", "window"),
        ("s3-bucket-encrypted-private", "logs"),
        ("s3-bucket-encrypted-private", "logs"),
        ("s3-bucket-encrypted-private", "logs"),
        ("spoke-explicit-provider", "orphan"),
    ]
    # the same program in an app team's project: guard rails are not theirs
    capture = render(_careless_program, mocks=AwsMocks(strict=False), project="team-app", stack="dev")
    assert _evaluate(capture) == []


def test_example_central_stack_has_no_mandatory_violation(central_capture: Capture) -> None:
    assert _evaluate(central_capture) == []


def test_example_child_stack_has_no_mandatory_violation_and_guard_rails_run(central_capture: Capture) -> None:
    from components.config import load_stack_file
    from patchctl.stack_render import render_stack

    child = render_stack(load_stack_file(PACK.parent / "Pulumi.child.yaml"), central_capture.outputs)
    assert _evaluate(child) == []
    # the guard rails did look: narrowing one of them shows every function of the stack
    narrowed = _evaluate(child, {"lambda-runtime-allowed": {"runtimes": ["nodejs20.x"]}})
    functions = child.of_type("aws:lambda/function:Function")
    assert functions and narrowed == sorted(("lambda-runtime-allowed", f.name) for f in functions)


def test_advisory_preset_reports_without_blocking() -> None:
    """The advisory-first rollout (issue 17 item 10): with ``policies/presets/advisory.json`` the
    untagged fixture's findings are all reported, as advisories; flipping one policy to
    mandatory in the same file makes only that one block."""
    preset = json.loads((PACK / "presets" / "advisory.json").read_text())
    capture = render_program(FIXTURES / "app_untagged", mocks=AwsMocks(strict=False))
    mandatory = check(capture, PACK, None, grpc=False)
    advisory = check(capture, PACK, preset, grpc=False)
    assert advisory.mandatory == [] and mandatory.mandatory
    assert sorted(v.policy for v in advisory.violations) == sorted(v.policy for v in mandatory.violations)
    assert {v.level for v in advisory.violations} == {"advisory"}
    flipped = check(capture, PACK, {**preset, "ec2-instance-profile": "mandatory"}, grpc=False)
    assert {v.policy for v in flipped.mandatory} == {"ec2-instance-profile"}
