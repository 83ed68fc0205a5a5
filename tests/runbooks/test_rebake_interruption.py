"""The ASG rebake survives interruption at every step, refuses concurrent runs, and refuses groups outside the
contract before changing anything (issue 18 item 3, issue 13 item 1)."""

from __future__ import annotations

from typing import Any

import pytest
import tag_contract

from components import naming
from components.runbooks import asg_rebake, render_runbook
from devkit.moto_extensions.ssm.models import patch_runs
from tests import aws

PG, MW = tag_contract.PATCH_GROUP_TAG, tag_contract.MAINTENANCE_WINDOW_TAG
WINDOW = "Prod_maintenance_window"
ACCOUNT, REGION = aws.ACCOUNTS[0], aws.REGIONS[0]


@pytest.fixture(scope="module")
def document() -> str:
    return render_runbook(naming.RUNBOOK_ASG)


def patch(account: str, region: str, during: Any = None):
    def run(inputs: dict[str, Any]) -> dict[str, Any]:
        ssm = aws.session(account, region).client("ssm")
        command = ssm.send_command(
            DocumentName=inputs["DocumentName"],
            InstanceIds=inputs["InstanceIds"],
            Parameters={k: [v] for k, v in inputs["Parameters"].items()},
            MaxErrors=inputs["MaxErrors"],
        )["Command"]
        if during is not None:
            during()
        patch_runs.simulate_patch_run(account, region, inputs["InstanceIds"], "Install")
        return {"CommandId": command["CommandId"], "Status": "Success"}

    return run


def group(sess: Any, name: str = "web", version: str = "1", tags: dict[str, str] | None = None) -> str:
    template = aws.create_launch_template(sess, name, image_id="ami-00000000000000001", tags={PG: "Prod"})
    aws.create_asg(sess, name, tags or {PG: "Prod", MW: WINDOW}, desired=2, template_id=template, version=version)
    return template


def state(sess: Any, name: str, template: str) -> dict[str, Any]:
    ec2, autoscaling = sess.client("ec2"), sess.client("autoscaling")
    images = ec2.describe_images(Owners=["self"], Filters=[{"Name": "tag:org-patching:asg", "Values": [name]}])
    builders = ec2.describe_instances(
        Filters=[
            {"Name": f"tag:{asg_rebake.BUILDER_TAG}", "Values": [name]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
        ]
    )["Reservations"]
    versions = ec2.describe_launch_template_versions(LaunchTemplateId=template)["LaunchTemplateVersions"]
    refreshes = autoscaling.describe_instance_refreshes(AutoScalingGroupName=name)["InstanceRefreshes"]
    described = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    locks = sess.client("ssm").get_parameters_by_path(Path=asg_rebake.LOCK_PREFIX)["Parameters"]
    return {
        "images": [i["ImageId"] for i in images["Images"] if i["State"] in ("pending", "available")],
        "builders": [i["InstanceId"] for r in builders for i in r["Instances"]],
        "versions": [v["VersionNumber"] for v in versions],
        "refreshes": [r["Status"] for r in refreshes],
        "groupVersion": described["LaunchTemplate"]["Version"],
        "locks": locks,
    }


def steps_of(document: str, account: str, region: str) -> list[str]:
    """The steps a full run executes (the interruption points)."""
    sess = aws.session(account, region)
    aws.create_instance_profile(sess)
    group(sess, "probe")
    run = aws.automation(document, {"TargetASG": "probe"}, account, region, run_command=patch(account, region))
    assert run["status"] == "Success", run["error"]
    return list(run["executed"])


# The cut points are dealt round-robin to CHUNKS tests, so that pytest-xdist spreads the slowest check of the suite
# over the cores; together the chunks cover every step.
CHUNKS = 4


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_a_rebake_interrupted_after_any_step_converges_on_a_rerun(moto_aws: None, document: str, chunk: int) -> None:
    executed = steps_of(document, aws.ACCOUNTS[2], aws.REGIONS[1])
    assert len(executed) > 15  # the wait loops ran several times
    print(f"rebake interruption points: {len(executed) - 1} of {len(executed)} steps ({len(set(executed))} distinct)")
    sess = aws.session(ACCOUNT, REGION)
    aws.create_instance_profile(sess)
    for k in range(1 + chunk, len(executed), CHUNKS):
        name = f"web-{k}"
        template = group(sess, name)
        cut = aws.automation(
            document,
            {"TargetASG": name},
            ACCOUNT,
            REGION,
            run_command=patch(ACCOUNT, REGION),
            execution_id=f"{k:08d}-0000-4000-8000-00000000000a",
            abort_after=k,
        )
        assert cut["status"] == "Cancelled", (k, cut["error"])
        during = state(sess, name, template)
        # never on a new version without a refresh that completed or rolled back
        if during["groupVersion"] != "1":
            assert "Successful" in during["refreshes"], (k, during)
        rerun = aws.automation(
            document,
            {"TargetASG": name},
            ACCOUNT,
            REGION,
            run_command=patch(ACCOUNT, REGION),
            execution_id=f"{k:08d}-0000-4000-8000-00000000000b",
        )
        assert rerun["status"] == "Success", (k, executed[k - 1], rerun["error"])
        after = state(sess, name, template)
        assert len(after["images"]) == 1, (k, executed[k - 1], after)
        assert after["versions"] == [1, 2], (k, executed[k - 1], after)
        assert after["refreshes"] == ["Successful"], (k, executed[k - 1], after)
        assert after["builders"] == [] and after["locks"] == [], (k, after)
        assert after["groupVersion"] == "2"


def test_a_concurrent_rebake_of_the_same_group_is_refused(moto_aws: None, document: str) -> None:
    sess = aws.session(ACCOUNT, REGION)
    aws.create_instance_profile(sess)
    template = group(sess)
    second: dict[str, Any] = {}

    def start_another() -> None:  # while the first one patches its builder
        second.update(
            aws.automation(
                document,
                {"MaintenanceWindow": WINDOW},
                ACCOUNT,
                REGION,
                run_command=patch(ACCOUNT, REGION),
                execution_id="00000002-0000-4000-8000-000000000000",
            )
        )

    first = aws.automation(
        document,
        {"TargetASG": "web"},
        ACCOUNT,
        REGION,
        run_command=patch(ACCOUNT, REGION, during=start_another),
        execution_id="00000001-0000-4000-8000-000000000000",
    )
    assert first["status"] == "Success", first["error"]
    assert second["status"] == "Failed" and "another rebake of this group is running" in second["error"]
    assert "00000001-0000-4000-8000-000000000000" in second["error"]
    assert second["executed"][-1] == "reportNothing"  # it touched nothing
    after = state(sess, "web", template)
    assert len(after["images"]) == 1 and after["versions"] == [1, 2] and after["refreshes"] == ["Successful"]


@pytest.mark.parametrize(
    ("tags", "template_tags", "profile", "why"),
    [
        ({PG: "Prod", MW: WINDOW, "install_patch": "no"}, {PG: "Prod"}, None, "exempt"),
        ({MW: WINDOW}, {PG: "Prod"}, None, "no Patch Group tag of the contract"),
        ({PG: "Prod", MW: WINDOW}, {}, None, "may not add versions to it"),
        ({PG: "Prod", MW: WINDOW}, {PG: "Prod"}, "/", "outside IAM path /org-patching-app/"),
    ],
)
def test_a_target_asg_outside_the_contract_is_refused_before_anything_changes(
    moto_aws: None, document: str, tags: dict[str, str], template_tags: dict[str, str], profile: str | None, why: str
) -> None:
    sess = aws.session(ACCOUNT, REGION)
    aws.create_instance_profile(sess)
    if profile is not None:
        iam = sess.client("iam")
        iam.create_role(RoleName="app-admin", Path=profile, AssumeRolePolicyDocument="{}")
        iam.create_instance_profile(InstanceProfileName="app-profile")
        iam.add_role_to_instance_profile(InstanceProfileName="app-profile", RoleName="app-admin")
    template = aws.create_launch_template(sess, "odd", tags=template_tags, profile="app-profile" if profile else None)
    aws.create_asg(sess, "odd", tags, desired=1, template_id=template, version="1")
    calls: list[str] = []
    with aws.as_account(ACCOUNT, REGION) as default:
        writes = ("RunInstances", "CreateImage", "CreateLaunchTemplateVersion", "StartInstanceRefresh", "PutParameter")
        default.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
        result = aws.automation(document, {"TargetASG": "odd"}, ACCOUNT, REGION, run_command=patch(ACCOUNT, REGION))
    assert result["status"] == "Failed" and why in result["error"] and "nothing was changed" in result["error"]
    assert result["executed"] == ["chooseBaseline", "chooseOperation", "findAsgs"]
    assert not set(calls) & set(writes), calls


def test_an_app_owned_profile_under_the_documented_path_is_rebaked(moto_aws: None, document: str) -> None:
    sess = aws.session(ACCOUNT, REGION)
    aws.create_instance_profile(sess)
    iam = sess.client("iam")
    iam.create_role(RoleName="app-web", Path=asg_rebake.APP_ROLE_PATH, AssumeRolePolicyDocument="{}")
    iam.create_instance_profile(InstanceProfileName="app-web")
    iam.add_role_to_instance_profile(InstanceProfileName="app-web", RoleName="app-web")
    template = aws.create_launch_template(sess, "app", tags={PG: "Prod"}, profile="app-web")
    aws.create_asg(sess, "app", {PG: "Prod", MW: WINDOW}, desired=1, template_id=template, version="1")
    result = aws.automation(document, {"TargetASG": "app"}, ACCOUNT, REGION, run_command=patch(ACCOUNT, REGION))
    assert result["status"] == "Success", result["error"]
    new = sess.client("ec2").describe_launch_template_versions(LaunchTemplateId=template, Versions=["2"])
    assert new["LaunchTemplateVersions"][0]["LaunchTemplateData"]["IamInstanceProfile"] == {"Name": "app-web"}
