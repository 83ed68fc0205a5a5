"""The engine-free harness itself: URNs, providers, invokes and the policy path must behave
like the engine, or every other test proves nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from patchctl.offline.analyzer import (
    GrpcAnalyzer,
    InProcessAnalyzer,
    PolicyConfigError,
    evaluate,
    load_pack,
    reconcile_config,
)
from patchctl.offline.mocks import AwsMocks
from patchctl.offline.render import ProgramError, render, render_program


class Pair(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Pair", name, None, opts)
        self.bucket = aws.s3.Bucket(f"{name}-bucket", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


def account_provider(account: str) -> aws.Provider:
    return aws.Provider(
        account,
        region="eu-west-1",
        allowed_account_ids=[account],
        assume_roles=[aws.ProviderAssumeRoleArgs(role_arn=f"arn:aws:iam::{account}:role/deploy")],
    )


def test_urns_follow_the_engine_format() -> None:
    def build() -> None:
        outer = Pair("outer")
        Pair("inner", opts=pulumi.ResourceOptions(parent=outer))

    capture = render(build, stack="s", project="p")
    urns = {r.name: r.urn for r in capture.resources}
    assert urns["p-s"] == "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s"
    assert urns["outer"] == "urn:pulumi:s::p::test:index:Pair::outer"
    assert urns["inner"] == "urn:pulumi:s::p::test:index:Pair$test:index:Pair::inner"
    assert urns["inner-bucket"] == "urn:pulumi:s::p::test:index:Pair$test:index:Pair$aws:s3/bucket:Bucket::inner-bucket"


def test_invokes_and_arns_answer_per_assumed_account() -> None:
    def build() -> dict[str, Any]:
        identities = {}
        for account in ("222222222222", "333333333333"):
            provider = account_provider(account)
            identities[account] = aws.get_caller_identity(opts=pulumi.InvokeOptions(provider=provider)).account_id
            aws.iam.Role(f"role-{account}", assume_role_policy="{}", opts=pulumi.ResourceOptions(provider=provider))
        return identities

    capture = render(build)
    assert capture.result == {"222222222222": "222222222222", "333333333333": "333333333333"}
    roles = capture.of_type("aws:iam/role:Role")
    assert {r.outputs["arn"].split(":")[4] for r in roles} == {"222222222222", "333333333333"}
    assert all(capture.account_of(r) == r.name.removeprefix("role-") for r in roles)
    provider = capture.one("pulumi:providers:aws", "222222222222")
    assert json.loads(provider.inputs["assumeRoles"])[0]["roleArn"] == "arn:aws:iam::222222222222:role/deploy"


def test_resource_region_overrides_provider_region() -> None:
    def build() -> None:
        provider = account_provider("222222222222")
        aws.ssm.Parameter(
            "p", type="String", value="v", region="ap-southeast-2", opts=pulumi.ResourceOptions(provider=provider)
        )
        aws.ssm.Parameter("q", type="String", value="v", opts=pulumi.ResourceOptions(provider=provider))

    capture = render(build)
    assert capture.region_of(capture.one("aws:ssm/parameter:Parameter", "p")) == "ap-southeast-2"
    assert capture.region_of(capture.one("aws:ssm/parameter:Parameter", "q")) == "eu-west-1"


def test_unknown_invoke_is_loud_in_strict_mode_and_a_warning_otherwise() -> None:
    def build() -> None:
        aws.ec2.get_instance_type(instance_type="t3.micro")

    with pytest.raises(Exception, match="no mock for invoke aws:ec2/getInstanceType"):
        render(build, mocks=AwsMocks(strict=True))
    lenient = render(build, mocks=AwsMocks(strict=False))
    assert any("getInstanceType" in w for w in lenient.warnings)


def test_stack_reference_reads_known_outputs() -> None:
    def build() -> Any:
        region = pulumi.StackReference("org/org-patching/central").get_output("homeRegion")
        pulumi.export("hubRegion", region)

    mocks = AwsMocks(stack_outputs={"org/org-patching/central": {"homeRegion": "eu-west-1"}})
    capture = render(build, mocks=mocks)
    assert capture.outputs["hubRegion"] == "eu-west-1"  # the value the reference resolved to
    with pytest.raises(Exception, match="no outputs known"):
        render(build, mocks=AwsMocks(strict=True))


def _baseline(name: str, os_name: str, **delay: Any) -> aws.ssm.PatchBaseline:
    return aws.ssm.PatchBaseline(
        name,
        operating_system=os_name,
        approval_rules=[
            aws.ssm.PatchBaselineApprovalRuleArgs(
                patch_filters=[aws.ssm.PatchBaselineApprovalRulePatchFilterArgs(key="PRIORITY", values=["Required"])],
                **delay,
            )
        ],
    )


@pytest.mark.parametrize("delay", [{"approve_after_days": 7}, {"approve_until_date": "2026-11-16"}])
def test_mocks_refuse_an_approval_delay_on_ubuntu_like_create_patch_baseline(delay: dict[str, Any]) -> None:
    # SSM's PatchRule: ApproveAfterDays/ApproveUntilDate are not supported for Ubuntu/Debian Server.
    with pytest.raises(Exception, match=r"ValidationException.*not supported for operating system UBUNTU"):
        render(lambda: _baseline("ubuntu", "UBUNTU", **delay))
    capture = render(lambda: (_baseline("ubuntu", "UBUNTU"), _baseline("al2023", "AMAZON_LINUX_2023", **delay)))
    assert len(capture.of_type("aws:ssm/patchBaseline:PatchBaseline")) == 2


def test_exports_become_stack_outputs() -> None:
    def build() -> None:
        bucket = aws.s3.Bucket("b", opts=pulumi.ResourceOptions(provider=account_provider("222222222222")))
        pulumi.export("bucket", bucket.bucket)
        pulumi.export("nested", {"version": "1.0", "arn": bucket.arn})

    outputs = render(build).outputs
    assert outputs["bucket"].startswith("b-")
    assert outputs["nested"] == {"version": "1.0", "arn": f"arn:aws:s3:::{outputs['bucket']}"}


def insecure_stack() -> Any:
    def build() -> None:
        aws.s3.Bucket("plain", opts=pulumi.ResourceOptions(provider=account_provider("222222222222")))

    return render(build)


def test_grpc_and_in_process_paths_agree() -> None:
    """The in-process servicer is a private SDK class: this keeps it honest."""
    capture = insecure_stack()
    config = {"all": "mandatory"}
    in_process = evaluate(capture.resources, InProcessAnalyzer(load_pack()), project="p", stack="s", user_config=config)
    grpc = GrpcAnalyzer()
    try:
        over_grpc = evaluate(capture.resources, grpc, project="p", stack="s", user_config=config)
    finally:
        grpc.close()
    assert in_process.violations, "an unencrypted bucket must violate the pack"
    assert sorted(in_process.violations, key=repr) == sorted(over_grpc.violations, key=repr)
    assert in_process.mandatory


def test_policy_config_is_reconciled_like_the_engine() -> None:
    info = InProcessAnalyzer(load_pack()).GetAnalyzerInfo()
    config = reconcile_config(info, {"all": "advisory", "s3-bucket-encrypted-private": "disabled"})
    assert config["s3-bucket-encrypted-private"][0] == "disabled"
    assert {level for name, (level, _) in config.items() if name != "s3-bucket-encrypted-private"} == {"advisory"}
    with pytest.raises(PolicyConfigError, match="not an enforcement level"):
        reconcile_config(info, {"all": "sometimes"})


def test_render_program_runs_a_program_directory(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: tiny\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  tiny:greeting: hello\n")
    (tmp_path / "helper.py").write_text("NAME = 'from-helper'\n")
    (tmp_path / "__main__.py").write_text(
        "import pulumi, pulumi_aws as aws\nimport helper\n"
        "aws.s3.Bucket(helper.NAME)\n"
        "pulumi.export('greeting', pulumi.Config().require('greeting'))\n"
    )
    capture = render_program(tmp_path, stack="dev")
    assert capture.project == "tiny"
    assert capture.one("aws:s3/bucket:Bucket").name == "from-helper"
    assert capture.outputs == {"greeting": "hello"}
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ProgramError, match=r"no Pulumi\.yaml"):
        render_program(empty)


def test_engine_config_is_read_from_the_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    """``__main__.py`` reads config the way ``pulumi up`` hands it over (PULUMI_CONFIG + runtime)."""
    import pulumi.runtime.config as runtime_config

    from components.config import ChildConfig, load_from_engine

    raw = yaml_config("Pulumi.child.yaml")
    monkeypatch.setenv(
        "PULUMI_CONFIG", json.dumps({k: v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()})
    )
    token = runtime_config.CONFIG.set({})
    try:
        assert isinstance(load_from_engine(), ChildConfig)
    finally:
        runtime_config.CONFIG.reset(token)


def yaml_config(name: str) -> dict[str, Any]:
    import yaml

    return dict(yaml.safe_load((Path(__file__).resolve().parents[2] / name).read_text())["config"])


def test_asg_list_tags_do_not_break_the_mocks() -> None:
    def build() -> None:
        aws.autoscaling.Group(
            "asg",
            max_size=1,
            min_size=1,
            tags=[aws.autoscaling.GroupTagArgs(key="environment", value="Prod", propagate_at_launch=True)],
            opts=pulumi.ResourceOptions(provider=account_provider("222222222222")),
        )

    capture = render(build)
    assert capture.one("aws:autoscaling/group:Group").outputs["tags"][0]["key"] == "environment"
