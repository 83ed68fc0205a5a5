"""The ASG runbook, run step by step from its rendered text on moto: rebake, new template version, refresh."""

from __future__ import annotations

from typing import Any

import pytest
import tag_contract

from components import naming
from components.runbooks import asg_rebake, render_runbook, with_parameter_default
from devkit.moto_extensions.autoscaling import models as autoscaling_models
from devkit.moto_extensions.ssm.models import patch_runs
from tests import aws

NEW_AMI_TAG = "org-patching:asg"
WINDOW = "Prod_maintenance_window"
PG, MW = tag_contract.PATCH_GROUP_TAG, tag_contract.MAINTENANCE_WINDOW_TAG


@pytest.fixture(scope="module")
def document() -> str:
    return render_runbook(naming.RUNBOOK_ASG)


def patch_with(account: str, region: str, fail: bool = False):
    """aws:runCommand of AWS-RunPatchBaseline: moto's send_command (validates the inputs) + a simulated run."""

    def run(inputs: dict[str, Any]) -> dict[str, Any]:
        ssm = aws.session(account, region).client("ssm")
        parameters = {k: [v] if isinstance(v, str) else v for k, v in inputs["Parameters"].items()}
        command = ssm.send_command(
            DocumentName=inputs["DocumentName"],
            InstanceIds=inputs["InstanceIds"],
            Parameters=parameters,
            MaxErrors=inputs["MaxErrors"],
        )["Command"]
        if fail:
            raise RuntimeError("AWS-RunPatchBaseline failed on the builder")
        patch_runs.simulate_patch_run(account, region, inputs["InstanceIds"], "Install")
        return {"CommandId": command["CommandId"], "Status": "Success"}

    return run


def fleet(account: str, region: str) -> dict[str, Any]:
    sess = aws.session(account, region)
    ec2 = sess.client("ec2")
    aws.create_instance_profile(sess)
    prod = {"environment": "Prod", PG: "Prod", MW: WINDOW}
    contract = {PG: "Prod"}
    default_lt = aws.create_launch_template(sess, "by-default", image_id="ami-00000000000000001", tags=contract)
    latest_lt = aws.create_launch_template(sess, "by-latest", image_id="ami-00000000000000002", tags=contract)
    pinned_lt = aws.create_launch_template(sess, "pinned-mixed", image_id="ami-00000000000000003", tags=contract)
    # pinned to version 1 while a version 2 exists: the rebake must start from 1
    ec2.create_launch_template_version(
        LaunchTemplateId=pinned_lt, LaunchTemplateData={"ImageId": "ami-0000000000000000f", "InstanceType": "t3.nano"}
    )
    aws.create_asg(sess, "by-default", prod, desired=2, template_id=default_lt, version="$Default")
    aws.create_asg(sess, "by-latest", prod, desired=1, template_id=latest_lt, version="$Latest")
    aws.create_asg(sess, "pinned-mixed", prod, desired=1, template_id=pinned_lt, version="1", mixed=True)
    aws.create_asg(sess, "eks", {**prod, "eks:cluster-name": "c1"}, desired=0)
    aws.create_asg(sess, "other-window", {**prod, MW: "Dev_maintenance_window"}, desired=0)
    return {"templates": {"by-default": default_lt, "by-latest": latest_lt, "pinned-mixed": pinned_lt}}


def template_data(ec2: Any, template: str, version: str) -> dict[str, Any]:
    return ec2.describe_launch_template_versions(LaunchTemplateId=template, Versions=[version])[
        "LaunchTemplateVersions"
    ][0]


@pytest.mark.parametrize(("account", "region"), [(aws.ACCOUNTS[0], aws.REGIONS[0]), (aws.ACCOUNTS[1], aws.REGIONS[1])])
def test_rebake_changes_only_the_image_refreshes_and_cleans_up(
    moto_aws: None, document: str, account: str, region: str
) -> None:
    made = fleet(account, region)
    sess = aws.session(account, region)
    ec2, autoscaling = sess.client("ec2"), sess.client("autoscaling")
    sources = {
        name: template_data(ec2, lt, "$Latest" if name == "by-latest" else "1")
        for name, lt in made["templates"].items()
    }

    result = aws.automation(
        document,
        {"MaintenanceWindow": WINDOW, "MinHealthyPercentage": 50, "AutoRollback": True},
        account,
        region,
        run_command=patch_with(account, region),
    )
    assert result["status"] == "Success", result["error"]
    assert result["executed"][-1] == "reportRebake"
    found = result["values"]["findAsgs.OutputPayload"]
    assert sorted(a["name"] for a in found["asgs"]) == ["by-default", "by-latest", "pinned-mixed"]
    assert "EKS" in found["skipped"]["eks"]

    for name, template in made["templates"].items():
        group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
        versions = ec2.describe_launch_template_versions(LaunchTemplateId=template)["LaunchTemplateVersions"]
        newest = max(versions, key=lambda v: v["VersionNumber"])
        source = sources[name]["LaunchTemplateData"]
        new = newest["LaunchTemplateData"]
        assert new["ImageId"] != source["ImageId"]
        assert {k: v for k, v in new.items() if k != "ImageId"} == {k: v for k, v in source.items() if k != "ImageId"}
        image = ec2.describe_images(ImageIds=[new["ImageId"]])["Images"][0]
        tags = aws.tags_of(image["Tags"])
        assert tags[NEW_AMI_TAG] == name and tags["org-patching:source-ami"] == source["ImageId"]
        assert tags[PG] == "Prod" and image["Name"].startswith(f"org-patching-{name}-")
        # the refresh moved the group to the new version (DesiredConfiguration): nothing else changed it
        spec = (
            group.get("LaunchTemplate")
            or group["MixedInstancesPolicy"]["LaunchTemplate"]["LaunchTemplateSpecification"]
        )
        assert spec["Version"] == str(newest["VersionNumber"])
        assert template_data(ec2, template, "$Default")["VersionNumber"] == 1  # a shared default never moves
        # the refresh ran with the requested preferences and the members now run the new AMI
        [refresh] = autoscaling.describe_instance_refreshes(AutoScalingGroupName=name)["InstanceRefreshes"]
        assert refresh["Status"] == "Successful"
        assert refresh["DesiredConfiguration"]["LaunchTemplate" if name != "pinned-mixed" else "MixedInstancesPolicy"]
        # AWS supports AutoRollback only for groups pinned to a version number (botocore RefreshPreferences)
        assert refresh["Preferences"]["MinHealthyPercentage"] == 50
        assert refresh["Preferences"]["AutoRollback"] is (name == "pinned-mixed")
        members = [i["InstanceId"] for i in group["Instances"]]
        running = ec2.describe_instances(InstanceIds=members)["Reservations"]
        assert {i["ImageId"] for r in running for i in r["Instances"]} == {new["ImageId"]}
    # builders: launched with the patching profile in one of the group's subnets, all terminated
    builds = result["values"]["launchBuilders.OutputPayload"]["builds"]
    assert len(builds) == 3
    described = ec2.describe_instances(InstanceIds=[b["builder"] for b in builds])["Reservations"]
    builders = [i for r in described for i in r["Instances"]]
    assert {i["State"]["Name"] for i in builders} == {"terminated"}
    # SSM saw every builder online, which the emulator (like the agent) grants only with an instance profile
    assert sorted(result["values"]["pollBuilders.InstanceIds"]) == sorted(b["builder"] for b in builds)
    # the waits were loops of short steps: hours of virtual time, no step past aws:executeScript's 600 s
    assert result["seconds"] > 600 and "sleepForRefreshes" in result["executed"]
    assert sess.client("ssm").get_parameters_by_path(Path="/org-patching/rebake-lock/")["Parameters"] == []
    assert all(b["subnet"] in b["subnets"] for b in builds)
    assert {i["InstanceType"] for i in builders} == {"t3.small"}  # the group's own type, not m3.large
    # untouched: the EKS group and the other window's group
    for untouched in ("eks", "other-window"):
        assert autoscaling.describe_instance_refreshes(AutoScalingGroupName=untouched)["InstanceRefreshes"] == []


def test_a_failed_patch_step_terminates_the_builders_and_fails(moto_aws: None, document: str) -> None:
    account, region = aws.ACCOUNTS[2], aws.REGIONS[0]
    made = fleet(account, region)
    ec2 = aws.session(account, region).client("ec2")
    result = aws.automation(
        document, {"MaintenanceWindow": WINDOW}, account, region, run_command=patch_with(account, region, fail=True)
    )
    assert result["status"] == "Failed" and "patchBuilders" in result["error"]
    assert result["executed"][-2:] == ["patchBuilders", "cleanupAfterFailure"]
    builders = [b["builder"] for b in result["values"]["launchBuilders.OutputPayload"]["builds"]]
    states = {
        i["State"]["Name"] for r in ec2.describe_instances(InstanceIds=builders)["Reservations"] for i in r["Instances"]
    }
    assert states == {"terminated"}
    for template in made["templates"].values():  # nothing changed
        versions = ec2.describe_launch_template_versions(LaunchTemplateId=template)["LaunchTemplateVersions"]
        assert all(not v.get("VersionDescription", "").startswith("org-patching") for v in versions)
    # the failure path released the locks: the next window can rebake these groups
    assert aws.session(account, region).client("ssm").get_parameters_by_path(Path="/org-patching/")["Parameters"] == []


def test_one_group_failing_does_not_stop_the_others_but_fails_the_execution(moto_aws: None, document: str) -> None:
    account, region = aws.ACCOUNTS[1], aws.REGIONS[0]
    fleet(account, region)
    autoscaling = aws.session(account, region).client("autoscaling")
    autoscaling.start_instance_refresh(AutoScalingGroupName="by-latest")  # a refresh already running blocks it
    result = aws.automation(
        document, {"MaintenanceWindow": WINDOW}, account, region, run_command=patch_with(account, region)
    )
    assert result["status"] == "Failed" and "by-latest: instance refresh not started" in result["error"]
    assert "InstanceRefreshInProgress" in result["error"]
    for name in ("by-default", "pinned-mixed"):
        [refresh] = autoscaling.describe_instance_refreshes(AutoScalingGroupName=name)["InstanceRefreshes"]
        assert refresh["Status"] == "Successful"
    assert result["values"]["terminateBuilders.Terminated"]  # the normal path cleaned up too


def test_refresh_rolled_back_is_reported_and_its_version_deleted(moto_aws: None, document: str) -> None:
    account, region = aws.ACCOUNTS[0], aws.REGIONS[1]
    made = fleet(account, region)
    sess = aws.session(account, region)

    def fail_then_patch(inputs: dict[str, Any]) -> dict[str, Any]:
        return patch_with(account, region)(inputs)

    original = autoscaling_models.RefreshBackend.start_instance_refresh

    def failing(self: Any, name: str, *args: Any) -> str:
        refresh_id = original(self, name, *args)
        if name == "pinned-mixed":  # health checks fail as soon as it starts
            autoscaling_models.fail_refresh(account, region, name, "health checks failed")
        return refresh_id

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(autoscaling_models.RefreshBackend, "start_instance_refresh", failing)
        result = aws.automation(document, {"MaintenanceWindow": WINDOW}, account, region, run_command=fail_then_patch)
    assert result["status"] == "Failed"
    assert "pinned-mixed: instance refresh" in result["error"] and "RollbackSuccessful" in result["error"]
    # the rolled-back version is gone ($Latest is the source again) and the group stayed on version 1
    versions = sess.client("ec2").describe_launch_template_versions(LaunchTemplateId=made["templates"]["pinned-mixed"])
    assert [v["VersionNumber"] for v in versions["LaunchTemplateVersions"]] == [1, 2]
    group = sess.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["pinned-mixed"])
    spec = group["AutoScalingGroups"][0]["MixedInstancesPolicy"]["LaunchTemplate"]["LaunchTemplateSpecification"]
    assert spec["Version"] == "1"


def test_scan_and_empty_windows_do_nothing(moto_aws: None, document: str) -> None:
    account, region = aws.ACCOUNTS[2], aws.REGIONS[1]
    fleet(account, region)
    scan = aws.automation(document, {"MaintenanceWindow": WINDOW, "Operation": "Scan"}, account, region)
    assert scan["status"] == "Success" and scan["executed"] == ["chooseBaseline", "chooseOperation", "reportOutcome"]
    empty = aws.automation(document, {"MaintenanceWindow": "Test_maintenance_window"}, account, region)
    assert empty["status"] == "Success" and empty["executed"][-2:] == ["anyAsg", "reportNothing"]
    builders = (
        aws.session(account, region)
        .client("ec2")
        .describe_instances(Filters=[{"Name": "tag-key", "Values": [asg_rebake.BUILDER_TAG]}])["Reservations"]
    )
    assert builders == []


def test_script_steps_directly_subnet_fallback_and_launch_configurations(moto_aws: None) -> None:
    account, region = aws.ACCOUNTS[0], aws.REGIONS[0]
    sess = aws.session(account, region)
    aws.create_instance_profile(sess)
    template = aws.create_launch_template(sess, "solo", tags={PG: "Prod"})
    aws.create_asg(sess, "solo", {"environment": "Prod", PG: "Prod", MW: WINDOW}, desired=0, template_id=template)
    sess.client("autoscaling").create_launch_configuration(
        LaunchConfigurationName="old", ImageId=aws.AMI, InstanceType="t3.micro"
    )
    sess.client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName="legacy",
        LaunchConfigurationName="old",
        MinSize=0,
        MaxSize=1,
        VPCZoneIdentifier=aws.subnets(sess)[0],
        Tags=[{"ResourceId": "legacy", "Key": MW, "Value": WINDOW, "PropagateAtLaunch": True}],
    )
    with aws.as_account(account, region) as default:
        found = asg_rebake.find_asgs({"MaintenanceWindow": WINDOW}, None)
        assert "launch configuration" in found["skipped"]["legacy"]
        calls = []

        def no_capacity(request: Any, **_: Any) -> Any:
            calls.append(1)
            return aws.error_response(request, "InsufficientInstanceCapacity") if len(calls) == 1 else None

        default.events.register_first("before-send.ec2.RunInstances", no_capacity)
        launched = asg_rebake.launch_builders(
            {"Asgs": found["asgs"], "ExecutionId": "exec-1", "InstanceProfileName": "InstanceProfileforPatching"},
            None,
        )
        [build] = launched["builds"]
        assert build["subnet"] == build["subnets"][1] and len(calls) == 2
        assert asg_rebake.terminate_builders({"ExecutionId": "exec-1"}, None)["terminated"] == [build["builder"]]
        with pytest.raises(RuntimeError, match="builders of execution exec-2 terminated"):
            asg_rebake.terminate_builders({"ExecutionId": "exec-2", "FailAfterCleanup": True}, None)
        with pytest.raises(ValueError, match="MaintenanceWindow, PatchGroup or TargetASG"):
            asg_rebake.find_asgs({}, None)
        with pytest.raises(ValueError, match="TargetASG nope: no such Auto Scaling group"):
            asg_rebake.find_asgs({"TargetASG": "nope"}, None)
        with pytest.raises(RuntimeError, match="1 Auto Scaling group"):
            asg_rebake.report_outcome({"Failures": ["x: broken"]}, None)
        assert asg_rebake.report_outcome({"Failures": [""]}, None) == {"status": "Success"}


def test_standalone_runbook_resolves_targets_and_output_prefix(moto_aws: None) -> None:
    account, region = aws.ACCOUNTS[1], aws.REGIONS[1]
    sess = aws.session(account, region)
    instances = aws.run_instances(sess, {MW: WINDOW}, count=2)
    seen: dict[str, Any] = {}

    def run(inputs: dict[str, Any]) -> dict[str, Any]:
        seen.update(inputs)
        ssm = sess.client("ssm")
        parameters = {k: [v] for k, v in inputs["Parameters"].items()}
        command = ssm.send_command(
            DocumentName=inputs["DocumentName"],
            Targets=inputs["Targets"],
            Parameters=parameters,
            MaxConcurrency=inputs["MaxConcurrency"],
            MaxErrors=inputs["MaxErrors"],
            OutputS3BucketName=inputs["OutputS3BucketName"],
            OutputS3KeyPrefix=inputs["OutputS3KeyPrefix"],
        )["Command"]
        return {"CommandId": command["CommandId"], "Status": command["Status"]}

    # As the child stack deploys it: its shard's BaselineOverride file is the default (components/stacks/child.py).
    override = "s3://patch-lists/baseline-overrides/child.json"
    deployed = with_parameter_default(render_runbook(naming.RUNBOOK_STANDALONE), "BaselineOverride", override)
    result = aws.automation(
        deployed,
        {"MaintenanceWindow": WINDOW, "Operation": "Install", "OutputS3BucketName": "logs", "OutputS3KeyPrefix": "p"},
        account,
        region,
        run_command=run,
    )
    assert result["status"] == "Success"
    assert seen["Targets"] == [{"Key": f"tag:{MW}", "Values": [WINDOW]}]
    assert (
        seen["OutputS3KeyPrefix"]
        == f"{account}/p/accountid={account}/region={region}/executionid=0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    )
    assert seen["Parameters"] == {
        "Operation": "Install",
        "RebootOption": "RebootIfNeeded",
        "InstallOverrideList": "",
        "BaselineOverride": override,
    }
    # the step's CommandId output is the command that was sent, with the runbook's targets and output settings
    [listed] = sess.client("ssm").list_commands(CommandId=result["values"]["runPatchBaseline.CommandId"])["Commands"]
    assert listed["DocumentName"] == "AWS-RunPatchBaseline"
    assert listed["Targets"] == [{"Key": f"tag:{MW}", "Values": [WINDOW]}]
    assert (listed["OutputS3BucketName"], listed["OutputS3KeyPrefix"]) == ("logs", seen["OutputS3KeyPrefix"])
    assert listed["Parameters"]["Operation"] == ["Install"]
    assert sorted(listed["InstanceIds"]) == sorted(instances)  # moto resolved the tag target to both
    # AWS-RunPatchBaseline fails when both are given: an install-override list drops the baseline override.
    listed_run = {
        "MaintenanceWindow": WINDOW,
        "Operation": "Install",
        "OutputS3BucketName": "logs",
        "InstallOverrideList": "s3://patch-lists/a/l.yaml",
    }
    assert aws.automation(deployed, listed_run, account, region, run_command=run)["status"] == "Success"
    assert seen["Parameters"]["BaselineOverride"] == ""
    assert seen["Parameters"]["InstallOverrideList"] == "s3://patch-lists/a/l.yaml"
    with pytest.raises(ValueError, match="undeclared"):
        aws.automation(render_runbook(naming.RUNBOOK_STANDALONE), {"Bogus": "x"}, account, region)


def test_asg_runbook_with_patch_group_selects_by_patch_group_whatever_the_window(moto_aws: None, document: str) -> None:
    account, region = aws.ACCOUNTS[1], aws.REGIONS[1]
    sess = aws.session(account, region)
    aws.create_instance_profile(sess)
    default = tag_contract.DEFAULT_WINDOW
    aws.create_asg(sess, "prod-on-default", {"environment": "Prod", PG: "Prod", MW: default}, desired=1)
    aws.create_asg(sess, "prod-on-prod", {"environment": "Prod", PG: "Prod", MW: WINDOW}, desired=0)
    aws.create_asg(sess, "dev-on-default", {"environment": "Dev", PG: "Dev", MW: default}, desired=1)
    aws.create_asg(sess, "prod-eks", {PG: "Prod", MW: default, "eks:cluster-name": "c1"}, desired=0)
    aws.create_asg(sess, "prod-exempt", {PG: "Prod", MW: default, "install_patch": "no"}, desired=0)
    autoscaling = sess.client("autoscaling")

    # PatchGroup wins over MaintenanceWindow (the window's default is always there)
    result = aws.automation(
        document,
        {"PatchGroup": "Prod", "MaintenanceWindow": default, "MinHealthyPercentage": 50},
        account,
        region,
        run_command=patch_with(account, region),
    )
    assert result["status"] == "Success", result["error"]
    found = result["values"]["findAsgs.OutputPayload"]
    assert sorted(a["name"] for a in found["asgs"]) == ["prod-on-default", "prod-on-prod"]
    assert {a["patchGroup"] for a in found["asgs"]} == {"Prod"}
    assert "EKS" in found["skipped"]["prod-eks"] and "prod-exempt" in found["skipped"]
    [refresh] = autoscaling.describe_instance_refreshes(AutoScalingGroupName="prod-on-default")["InstanceRefreshes"]
    assert refresh["Status"] == "Successful"
    assert autoscaling.describe_instance_refreshes(AutoScalingGroupName="dev-on-default")["InstanceRefreshes"] == []

    with aws.as_account(account, region):
        # TargetASG wins over PatchGroup; without PatchGroup the window selects, as the window tasks do
        targeted = asg_rebake.find_asgs({"TargetASG": "dev-on-default", "PatchGroup": "Prod"}, None)
        assert [a["name"] for a in targeted["asgs"]] == ["dev-on-default"]
        by_window = asg_rebake.find_asgs({"MaintenanceWindow": default, "PatchGroup": ""}, None)
        assert sorted(a["name"] for a in by_window["asgs"]) == ["dev-on-default", "prod-on-default"]
        by_group = asg_rebake.find_asgs({"PatchGroup": "Default"}, None)
        assert by_group["asgs"] == [] and by_group["failures"] == []
        with pytest.raises(ValueError, match="PatchGroup: 'Production' is not one of Default, Dev, Test, Prod"):
            asg_rebake.find_asgs({"PatchGroup": "Production"}, None)


def patch_by_targets(account: str, region: str, patched: list[str]):
    """aws:runCommand with Targets as SSM resolves them: the tag filter through ec2 describe_instances (the demo's
    command runner does the same), then moto's send_command to those instances and a simulated Install."""

    def run(inputs: dict[str, Any]) -> dict[str, Any]:
        sess = aws.session(account, region)
        [target] = inputs["Targets"]
        reservations = sess.client("ec2").describe_instances(
            Filters=[
                {"Name": target["Key"], "Values": target["Values"]},
                {"Name": "instance-state-name", "Values": ["running"]},
            ]
        )["Reservations"]
        ids = sorted(i["InstanceId"] for r in reservations for i in r["Instances"])
        if not ids:
            return {"CommandId": "", "Status": "Success"}
        parameters = {k: [v] for k, v in inputs["Parameters"].items() if v != ""}
        command = sess.client("ssm").send_command(
            DocumentName=inputs["DocumentName"], InstanceIds=ids, Parameters=parameters
        )["Command"]
        patch_runs.simulate_patch_run(account, region, ids, inputs["Parameters"]["Operation"])
        patched.extend(ids)
        return {"CommandId": command["CommandId"], "Status": "Success"}

    return run


#: The standalone runbook requires its output bucket (SendCommand refuses an empty one).
OUTPUT = {"OutputS3BucketName": "org-patching-patch-logs"}


def test_standalone_runbook_with_patch_group_patches_the_environment_whatever_the_window(moto_aws: None) -> None:
    account, region = aws.ACCOUNTS[2], aws.REGIONS[0]
    sess = aws.session(account, region)
    default = tag_contract.DEFAULT_WINDOW
    profile = aws.create_instance_profile(sess)  # SSM manages (and patches) only instances with a profile

    def instance(tags: dict[str, str]) -> str:
        return aws.run_instances(sess, tags, profile=profile)[0]

    prod_on_default = instance({"environment": "Prod", PG: "Prod", MW: default})
    prod_on_prod = instance({"environment": "Prod", PG: "Prod", MW: WINDOW})
    dev_on_default = instance({"environment": "Dev", PG: "Dev", MW: default})
    default_on_default = instance({PG: "Default", MW: default})
    document = render_runbook(naming.RUNBOOK_STANDALONE)

    patched: list[str] = []
    wave = aws.automation(
        document,
        {"PatchGroup": "Prod", "Operation": "Install", **OUTPUT},
        account,
        region,
        run_command=patch_by_targets(account, region, patched),
    )
    assert wave["status"] == "Success", wave["error"]
    # with an output bucket the command keeps its output (without one it is sent with no output settings:
    # tests/runbooks/test_documents.py checks every route)
    assert wave["executed"] == [
        "chooseBaseline",
        "checkChangeGate",
        "chooseTargets",
        "route",
        "runPatchBaselineByPatchGroup",
    ]
    assert sorted(patched) == sorted([prod_on_default, prod_on_prod])
    assert dev_on_default not in patched and default_on_default not in patched
    assert wave["values"]["runPatchBaselineByPatchGroup.CommandId"]
    states = sess.client("ssm").describe_instance_patch_states(InstanceIds=[prod_on_default, dev_on_default])
    assert [s["InstanceId"] for s in states["InstancePatchStates"]] == [prod_on_default]

    # "Default" is the Patch Group Default, not every instance on the Default window
    patched.clear()
    defaults = aws.automation(
        document,
        {"PatchGroup": "Default", **OUTPUT},
        account,
        region,
        run_command=patch_by_targets(account, region, patched),
    )
    assert defaults["status"] == "Success" and patched == [default_on_default]

    # without PatchGroup the window selects, as the window tasks do
    patched.clear()
    window = aws.automation(
        document,
        {"MaintenanceWindow": default, **OUTPUT},
        account,
        region,
        run_command=patch_by_targets(account, region, patched),
    )
    assert window["status"] == "Success"
    assert window["executed"] == ["chooseBaseline", "checkChangeGate", "chooseTargets", "route", "runPatchBaseline"]
    assert sorted(patched) == sorted([prod_on_default, dev_on_default, default_on_default])
