"""The applier deploys both example stacks into one emulated organization; every rendered AWS
resource is then read back from moto in its account and region, each type with the property
that matters checked against the rendered input."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.config import AccountConfig, ApprovalConfig, CentralConfig, ChildConfig, load_stack_file
from devkit.applier import REGISTRY, Applied, AppliedResource, apply_central, apply_child
from devkit.applier.__main__ import ensure_config_recorders
from devkit.applier.summary import count_in_emulator, read_back
from devkit.emulator import Emulator

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Deployed:
    emu: Emulator
    central: Applied
    child: Applied

    @property
    def resources(self) -> list[AppliedResource]:
        return [*self.central.resources.values(), *self.child.resources.values()]


def organization_configs(emu: Emulator) -> tuple[CentralConfig, ChildConfig]:
    """The example stacks' configs, with the accounts of a moto organization: the hub is its
    management account, the two children are member accounts created in it."""
    central = load_stack_file(REPO / "Pulumi.central.yaml")
    child = load_stack_file(REPO / "Pulumi.child.yaml")
    assert isinstance(central, CentralConfig) and isinstance(child, ChildConfig)
    org = emu.session(emu.default_account, "us-east-1").client("organizations")
    org_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    members = []
    for account in child.accounts or []:
        status = org.create_account(Email=f"{account.name}@example.com", AccountName=account.name)
        members.append(AccountConfig(id=status["CreateAccountStatus"]["AccountId"], name=account.name))
    common = {"org_id": org_id, "central_account_id": emu.default_account}
    central = central.model_copy(update={**common, "accounts": [m.id for m in members]})
    child = child.model_copy(update={**common, "accounts": members})
    return central, child


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    with Emulator() as emu:
        central_cfg, child_cfg = organization_configs(emu)
        central = apply_central(emu, central_cfg)
        ensure_config_recorders(emu, child_cfg)
        child = apply_child(emu, child_cfg, central.outputs)
        yield Deployed(emu, central, child)


#: Types only a child with staged approval declares (by default the baselines are the hub's override file).
ACCOUNT_BASELINE_TYPES = {"aws:ssm/patchBaseline:PatchBaseline", "aws:ssm/defaultPatchBaseline:DefaultPatchBaseline"}


@pytest.fixture(scope="module")
def staged(deployed: Deployed) -> Applied:
    """A child with staged approval (account baselines) in one new member account, one region."""
    emu = deployed.emu
    example = load_stack_file(REPO / "Pulumi.child.yaml")
    assert isinstance(example, ChildConfig)
    org = emu.session(emu.default_account, "us-east-1").client("organizations")
    status = org.create_account(Email="staged@example.com", AccountName="staged")["CreateAccountStatus"]
    # equal delays: no per-stage PatchGroup registration (a type the applier does not map yet)
    same_delays = ApprovalConfig(dev=7, test=7, prod=7, default=7)
    patching = example.patching.model_copy(
        update={
            "staged_approval": True,
            "operating_systems": ["AMAZON_LINUX_2023", "WINDOWS"],
            "approve_after_days": same_delays,
        }
    )
    child_cfg = example.model_copy(
        update={
            "org_id": org.describe_organization()["Organization"]["Id"],
            "central_account_id": emu.default_account,
            "accounts": [AccountConfig(id=status["AccountId"], name="staged")],
            "regions": ["us-east-1"],
            "patching": patching,
        }
    )
    ensure_config_recorders(emu, child_cfg)
    return apply_child(emu, child_cfg, deployed.central.outputs)


def rendered_aws_counts(applied: Applied) -> Counter[str]:
    assert applied.capture is not None
    return Counter(r.type for r in applied.capture.resources if r.custom and r.type.startswith("aws:"))


def test_every_rendered_resource_is_in_the_emulator(deployed: Deployed) -> None:
    found, missing = count_in_emulator(deployed.emu, [deployed.central, deployed.child])
    assert missing == []
    by_type: Counter[str] = Counter()
    for (_, type_token), count in found.items():
        by_type[type_token] += count
    assert by_type == rendered_aws_counts(deployed.central) + rendered_aws_counts(deployed.child)


def test_resources_land_in_their_provider_account_and_region(deployed: Deployed) -> None:
    hub = deployed.emu.default_account
    assert {r.account for r in deployed.central.resources.values()} == {hub}
    # the child stack's one resource in the hub: its shard's baseline override file
    (override,) = deployed.child.of_type("aws:s3/bucketObjectv2:BucketObjectv2")
    assert (override.account, override.id) == (hub, "baseline-overrides/child.json")
    children = {r.account for r in deployed.child.resources.values() if r is not override}
    assert hub not in children and len(children) == 2
    windows = deployed.child.of_type("aws:ssm/maintenanceWindow:MaintenanceWindow")
    assert sorted((w.account, w.region) for w in windows) == sorted(
        (a, r) for a in children for r in ("us-east-1", "eu-west-1")
    )
    # ... and nowhere else: the hub has no maintenance window.
    hub_ssm = deployed.emu.session(hub, "us-east-1").client("ssm")
    assert hub_ssm.describe_maintenance_windows()["WindowIdentities"] == []


def test_child_reads_the_central_applys_real_outputs(deployed: Deployed) -> None:
    inventory = deployed.central.outputs["compliance"]["inventoryBucket"]
    bucket = next(r for r in deployed.central.of_type("aws:s3/bucket:Bucket") if r.id == inventory)
    syncs = deployed.child.of_type("aws:ssm/resourceDataSync:ResourceDataSync")
    assert syncs and {s.outputs["s3Destination"]["bucketName"] for s in syncs} == {bucket.id}


def test_every_rendered_type_is_mapped_and_checked(deployed: Deployed, staged: Applied) -> None:
    rendered = set(rendered_aws_counts(deployed.central)) | set(rendered_aws_counts(deployed.child))
    rendered |= set(rendered_aws_counts(staged))
    assert rendered <= set(REGISTRY)
    assert set(CHECKS) == set(REGISTRY)


def test_deployed_lambda_runs_the_shipped_archive(deployed: Deployed) -> None:
    function = next(f for f in deployed.central.of_type("aws:lambda/function:Function") if "emergency-validate" in f.id)
    client = deployed.emu.session(function.account, function.region).client("lambda")
    response = client.invoke(FunctionName=function.id, Payload=json.dumps({"waves": ["Nope"]}).encode())
    payload = json.loads(response["Payload"].read())
    # The handler itself refused the request (its first required field is missing): its code
    # was imported from the deployed zip and ran.
    assert response.get("FunctionError")
    assert payload["errorType"] == "InvalidEmergencyInput"
    assert payload["errorMessage"] == "patching_operation: is required (one of Scan, Install)"


# ---------------------------------------------------------------------------------- per type


def _client(emu: Emulator, r: AppliedResource, service: str) -> Any:
    return emu.session(r.account, r.region).client(service)


def _bucket(emu: Emulator, r: AppliedResource, d: Any) -> None:
    tags = _client(emu, r, "s3").get_bucket_tagging(Bucket=r.id)["TagSet"]
    assert {"Key": "managed-by", "Value": "org-patching"} in tags


def _encryption(emu: Emulator, r: AppliedResource, d: Any) -> None:
    rule = d["ServerSideEncryptionConfiguration"]["Rules"][0]
    wanted = r.outputs["rules"][0]["applyServerSideEncryptionByDefault"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": wanted["kmsMasterKeyId"],
    }
    assert rule["BucketKeyEnabled"] is True


def _lifecycle(emu: Emulator, r: AppliedResource, d: Any) -> None:
    (rule,) = d["Rules"]
    assert rule["Expiration"]["Days"] == r.outputs["rules"][0]["expiration"]["days"]
    assert all(rule["Expiration"]["Days"] > t["Days"] for t in rule.get("Transitions", []))


def _object(emu: Emulator, r: AppliedResource, d: Any) -> None:
    assert d["ContentType"] == r.outputs["contentType"] and d["ServerSideEncryption"] == "aws:kms"
    body = _client(emu, r, "s3").get_object(Bucket=r.outputs["bucket"], Key=r.id)["Body"].read()
    rendered = r.outputs["content"].encode() if "content" in r.outputs else Path(r.outputs["source"].path).read_bytes()
    assert body == rendered


def _key(emu: Emulator, r: AppliedResource, d: Any) -> None:
    kms = _client(emu, r, "kms")
    assert json.loads(kms.get_key_policy(KeyId=r.id, PolicyName="default")["Policy"]) == json.loads(r.outputs["policy"])
    assert kms.get_key_rotation_status(KeyId=r.id)["KeyRotationEnabled"] is True


def _role(emu: Emulator, r: AppliedResource, d: Any) -> None:
    assert d["AssumeRolePolicyDocument"] == json.loads(r.outputs["assumeRolePolicy"])
    iam = _client(emu, r, "iam")
    for inline in r.outputs.get("inlinePolicies") or []:
        got = iam.get_role_policy(RoleName=r.id, PolicyName=inline["name"])["PolicyDocument"]
        assert got == json.loads(inline["policy"])


def _function(emu: Emulator, r: AppliedResource, d: Any) -> None:
    config = d["Configuration"]
    assert (config["Handler"], config["Runtime"], config["Role"]) == (
        r.outputs["handler"],
        r.outputs["runtime"],
        r.outputs["role"],
    )
    assert config["Environment"]["Variables"] == r.outputs["environment"]["variables"]
    assert [layer["Arn"] for layer in config.get("Layers", [])] == list(r.outputs.get("layers") or [])
    if r.outputs.get("deadLetterConfig"):
        assert config["DeadLetterConfig"]["TargetArn"] == r.outputs["deadLetterConfig"]["targetArn"]


def _window_task(emu: Emulator, r: AppliedResource, d: Any) -> None:
    assert (d["TaskArn"], d["TaskType"], d["ServiceRoleArn"], d["Priority"]) == (
        r.outputs["taskArn"],
        "AUTOMATION",
        r.outputs["serviceRoleArn"],
        r.outputs["priority"],
    )
    rendered = r.outputs["taskInvocationParameters"]["automationParameters"]["parameters"]
    parameters = d["TaskInvocationParameters"]["Automation"]["Parameters"]
    assert parameters == {p["name"]: p["values"] for p in rendered}
    if d["Name"] == "org-patching-patch-instances":
        assert parameters["MaxConcurrency"] == ["10%"]
        assert parameters["OutputS3BucketName"][0].startswith("hub-compliance-patch-logs")


def _association(emu: Emulator, r: AppliedResource, d: Any) -> None:
    assert d["ScheduleExpression"] == r.outputs["scheduleExpression"]
    if d["Name"] == "AWS-RunPatchBaseline":  # the daily scan: every managed instance, no reboot, the org's baselines
        assert d["Targets"] == [{"Key": "InstanceIds", "Values": ["*"]}]
        assert {k: v for k, v in d["Parameters"].items() if k != "BaselineOverride"} == {
            "Operation": ["Scan"],
            "RebootOption": ["NoReboot"],
        }
        assert d["Parameters"]["BaselineOverride"][0].endswith("/baseline-overrides/child.json")
        return
    assert d["Targets"] == [{"Key": "tag-key", "Values": ["Patch Group"]}]
    assert d["OutputLocation"]["S3Location"]["OutputS3BucketName"] == r.outputs["outputLocation"]["s3BucketName"]
    assert d["ScheduleExpression"] == r.outputs["scheduleExpression"]


def _table(emu: Emulator, r: AppliedResource, d: Any) -> None:
    assert d["StorageDescriptor"]["Location"] == r.outputs["storageDescriptor"]["location"]
    assert [k["Name"] for k in d["PartitionKeys"]] == [k["name"] for k in r.outputs["partitionKeys"]]
    assert d["Parameters"]["projection.enabled"] == "true"


def _workgroup(emu: Emulator, r: AppliedResource, d: Any) -> None:
    config = d["Configuration"]
    wanted = r.outputs["configuration"]
    assert config["ResultConfiguration"]["OutputLocation"] == wanted["resultConfiguration"]["outputLocation"]
    assert config["BytesScannedCutoffPerQuery"] == wanted["bytesScannedCutoffPerQuery"]


def _constraint(emu: Emulator, r: AppliedResource, d: Any) -> None:
    assert d["ConstraintDetail"]["Type"] == "LAUNCH"
    assert json.loads(d["ConstraintParameters"]) == json.loads(r.outputs["parameters"])


def _artifact(emu: Emulator, r: AppliedResource, d: Any) -> None:
    """The template version is an artifact of the product the stack created (next to its initial one)."""
    assert d["Name"] == r.outputs["name"] and d["Guidance"] == r.outputs["guidance"] == "DEFAULT"
    catalog = emu.session(r.account, r.region).client("servicecatalog")
    artifacts = catalog.list_provisioning_artifacts(ProductId=r.outputs["productId"])["ProvisioningArtifactDetails"]
    assert [a["Name"] for a in artifacts] == [f"initial-{r.outputs['name']}", r.outputs["name"]]


def _equal(path: Callable[[Any], Any], rendered: Callable[[dict[str, Any]], Any]) -> Callable[..., None]:
    def check(emu: Emulator, r: AppliedResource, d: Any) -> None:
        assert path(d) == rendered(r.outputs)

    return check


def _found(emu: Emulator, r: AppliedResource, d: Any) -> None:
    assert d  # the association/registration is listed by the service


CHECKS: dict[str, Callable[[Emulator, AppliedResource, Any], None]] = {
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _equal(
        lambda d: d["OwnershipControls"]["Rules"][0]["ObjectOwnership"], lambda o: o["rule"]["objectOwnership"]
    ),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _equal(
        lambda d: set(d["PublicAccessBlockConfiguration"].values()), lambda o: {True}
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": _encryption,
    "aws:s3/bucketVersioning:BucketVersioning": _equal(lambda d: d["Status"], lambda o: "Enabled"),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _lifecycle,
    "aws:s3/bucketPolicy:BucketPolicy": _equal(lambda d: json.loads(d["Policy"]), lambda o: json.loads(o["policy"])),
    "aws:s3/bucketObjectv2:BucketObjectv2": _object,
    "aws:kms/key:Key": _key,
    "aws:kms/alias:Alias": _equal(lambda d: d["TargetKeyId"], lambda o: o["targetKeyId"]),
    "aws:iam/role:Role": _role,
    "aws:iam/rolePolicy:RolePolicy": _equal(lambda d: d["PolicyDocument"], lambda o: json.loads(o["policy"])),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _equal(lambda d: d, lambda o: o["policyArn"]),
    "aws:iam/instanceProfile:InstanceProfile": _equal(
        lambda d: [x["RoleName"] for x in d["Roles"]], lambda o: [o["role"]]
    ),
    "aws:lambda/function:Function": _function,
    "aws:lambda/permission:Permission": _equal(
        lambda d: (d["Principal"], d["Condition"]),
        lambda o: (
            {"Service": o["principal"]},
            {
                **({"ArnLike": {"AWS:SourceArn": o["sourceArn"]}} if o.get("sourceArn") else {}),
                **({"StringEquals": {"AWS:SourceAccount": o["sourceAccount"]}} if o.get("sourceAccount") else {}),
            },
        ),
    ),
    "aws:sqs/queue:Queue": _equal(
        lambda d: (d["MessageRetentionPeriod"], d["SqsManagedSseEnabled"]),
        lambda o: (str(int(o["messageRetentionSeconds"])), "true"),
    ),
    "aws:sns/topic:Topic": _equal(
        lambda d: (d["DisplayName"], d["KmsMasterKeyId"]), lambda o: (o["displayName"], o["kmsMasterKeyId"])
    ),
    "aws:sns/topicPolicy:TopicPolicy": _equal(lambda d: json.loads(d), lambda o: json.loads(o["policy"])),
    "aws:dynamodb/table:Table": _equal(
        lambda d: (d["TableName"], d["KeySchema"][0]["AttributeName"], d["BillingModeSummary"]["BillingMode"]),
        lambda o: (o["name"], o["hashKey"], o["billingMode"]),
    ),
    "aws:sns/topicSubscription:TopicSubscription": _equal(
        lambda d: (d["Protocol"], d["Endpoint"]), lambda o: (o["protocol"], o["endpoint"])
    ),
    "aws:sfn/stateMachine:StateMachine": _equal(
        lambda d: (json.loads(d["definition"]), d["roleArn"]), lambda o: (json.loads(o["definition"]), o["roleArn"])
    ),
    "aws:cloudwatch/logGroup:LogGroup": _equal(lambda d: d["retentionInDays"], lambda o: o["retentionInDays"]),
    "aws:cloudwatch/eventRule:EventRule": _equal(
        lambda d: json.loads(d["EventPattern"]) if "EventPattern" in d else d["ScheduleExpression"],
        lambda o: json.loads(o["eventPattern"]) if o.get("eventPattern") else o["scheduleExpression"],
    ),
    "aws:cloudwatch/eventTarget:EventTarget": _equal(
        lambda d: (d["Arn"], d.get("RoleArn")), lambda o: (o["arn"], o.get("roleArn"))
    ),
    "aws:cfg/rule:Rule": _equal(
        lambda d: (d["Source"]["SourceIdentifier"], json.loads(d["InputParameters"]), d["Scope"]),
        lambda o: (
            o["source"]["sourceIdentifier"],
            json.loads(o["inputParameters"]),
            {"ComplianceResourceTypes": o["scope"]["complianceResourceTypes"]},
        ),
    ),
    "aws:ssm/document:Document": _equal(
        lambda d: (d["DocumentType"], d["DocumentFormat"]), lambda o: (o["documentType"], o["documentFormat"])
    ),
    "aws:ssm/patchBaseline:PatchBaseline": _equal(
        lambda d: (d["OperatingSystem"], [r.get("ApproveAfterDays") for r in d["ApprovalRules"]["PatchRules"]]),
        lambda o: (o["operatingSystem"], [r.get("approveAfterDays") for r in o["approvalRules"]]),
    ),
    "aws:ssm/defaultPatchBaseline:DefaultPatchBaseline": _equal(lambda d: d["BaselineId"], lambda o: o["baselineId"]),
    "aws:ssm/maintenanceWindow:MaintenanceWindow": _equal(
        lambda d: (d["Schedule"], d["Duration"], d["Cutoff"], d["ScheduleTimezone"]),
        lambda o: (o["schedule"], o["duration"], o["cutoff"], o["scheduleTimezone"]),
    ),
    "aws:ssm/maintenanceWindowTask:MaintenanceWindowTask": _window_task,
    "aws:ssm/association:Association": _association,
    "aws:ssm/serviceSetting:ServiceSetting": _equal(
        lambda d: (d["SettingValue"], d["Status"]), lambda o: (o["settingValue"], "Customized")
    ),
    "aws:ssm/resourceDataSync:ResourceDataSync": _equal(
        lambda d: (d["S3Destination"]["BucketName"], d["S3Destination"]["AWSKMSKeyARN"], d["S3Destination"]["Prefix"]),
        lambda o: (o["s3Destination"]["bucketName"], o["s3Destination"]["kmsKeyArn"], o["s3Destination"]["prefix"]),
    ),
    "aws:glue/catalogDatabase:CatalogDatabase": _equal(lambda d: d["Description"], lambda o: o["description"]),
    "aws:glue/catalogTable:CatalogTable": _table,
    "aws:athena/workgroup:Workgroup": _workgroup,
    "aws:athena/namedQuery:NamedQuery": _equal(
        lambda d: (d["QueryString"], d["Database"], d["WorkGroup"]),
        lambda o: (o["query"], o["database"], o["workgroup"]),
    ),
    "aws:servicecatalog/portfolio:Portfolio": _equal(
        lambda d: (d["DisplayName"], d["ProviderName"]), lambda o: (o["name"], o["providerName"])
    ),
    "aws:servicecatalog/product:Product": _equal(lambda d: (d["Name"], d["Owner"]), lambda o: (o["name"], o["owner"])),
    "aws:servicecatalog/productPortfolioAssociation:ProductPortfolioAssociation": _found,
    "aws:servicecatalog/constraint:Constraint": _constraint,
    "aws:servicecatalog/provisioningArtifact:ProvisioningArtifact": _artifact,
    "aws:servicecatalog/portfolioShare:PortfolioShare": _equal(lambda d: d["Type"], lambda o: o["type"]),
    "aws:servicecatalog/principalPortfolioAssociation:PrincipalPortfolioAssociation": _equal(
        lambda d: d["PrincipalType"], lambda o: o["principalType"]
    ),
    "aws:servicecatalog/tagOption:TagOption": _equal(
        lambda d: (d["Key"], d["Value"]), lambda o: (o["key"], o["value"])
    ),
    "aws:servicecatalog/tagOptionResourceAssociation:TagOptionResourceAssociation": _found,
    "aws:cloudformation/stackSet:StackSet": _equal(
        lambda d: (d["PermissionModel"], d["TemplateBody"], {p["ParameterKey"] for p in d["Parameters"]}),
        lambda o: (o["permissionModel"], o["templateBody"], set(o["parameters"])),
    ),
    "aws:cloudformation/stackSetInstance:StackSetInstance": _equal(
        lambda d: (d["Action"], d["StackSetId"].split(":")[0]), lambda o: ("CREATE", o["stackSetName"])
    ),
    # issue 16: patch events (devkit/applier/mappings/events.py)
    "aws:cloudwatch/eventBus:EventBus": _equal(lambda d: d["Name"], lambda o: o["name"]),
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": _equal(
        lambda d: json.loads(d["Policy"]), lambda o: json.loads(o["policy"])
    ),
    "aws:sqs/queuePolicy:QueuePolicy": _equal(lambda d: json.loads(d), lambda o: json.loads(o["policy"])),
    # a single-metric alarm (hub) or a metric-math one (the child functions' alarm: its queries, no metric name)
    "aws:cloudwatch/metricAlarm:MetricAlarm": _equal(
        lambda d: (d.get("MetricName"), d.get("AlarmActions") or [], sorted(m["Id"] for m in d.get("Metrics", []))),
        lambda o: (
            o.get("metricName"),
            o.get("alarmActions") or [],
            sorted(m["id"] for m in o.get("metricQueries") or []),
        ),
    ),
}


@pytest.mark.parametrize("type_token", sorted(CHECKS))
def test_type_reads_back_as_rendered(deployed: Deployed, type_token: str, request: pytest.FixtureRequest) -> None:
    applied = deployed.resources
    if type_token in ACCOUNT_BASELINE_TYPES:
        applied = list(request.getfixturevalue("staged").resources.values())
    resources = [r for r in applied if r.type == type_token]
    assert resources, f"{type_token}: nothing of this type was applied"
    for resource in resources:
        description = read_back(deployed.emu, resource)
        assert description is not None, resource.urn
        CHECKS[type_token](deployed.emu, resource, description)


def test_a_child_stack_deploys_where_no_config_recorder_exists(deployed: Deployed) -> None:
    """``patching.configRecorder: none``: the child stack deploys into account-regions without a
    recorder (AWS would refuse the Config rule there) and declares no Config rule at all; with the
    default (``existing``) the same regions refuse it (tests/devkit/test_applier_rules.py). Two new
    member accounts of the same organization, against the hub already deployed."""
    emu = deployed.emu
    example = load_stack_file(REPO / "Pulumi.child.yaml")
    assert isinstance(example, ChildConfig)
    org = emu.session(emu.default_account, "us-east-1").client("organizations")
    org_id = org.describe_organization()["Organization"]["Id"]
    members = []
    for name in ("no-recorder-a", "no-recorder-b"):
        status = org.create_account(Email=f"{name}@example.com", AccountName=name)["CreateAccountStatus"]
        members.append(AccountConfig(id=status["AccountId"], name=name))
    patching = example.patching.model_copy(update={"config_recorder": "none"})
    child_cfg = example.model_copy(
        update={"org_id": org_id, "central_account_id": emu.default_account, "accounts": members, "patching": patching}
    )
    child = apply_child(emu, child_cfg, deployed.central.outputs)
    assert not [r for r in child.resources.values() if r.type == "aws:cfg/rule:Rule"]
    for account in members:
        for region in child_cfg.regions_of(account):
            config = emu.session(account.id, region).client("config")
            assert config.describe_configuration_recorders()["ConfigurationRecorders"] == []
            assert config.describe_config_rules()["ConfigRules"] == []
    rules = [r for r in child.resources.values() if r.type == "aws:cloudwatch/eventRule:EventRule"]
    assert any(r.outputs.get("scheduleExpression") for r in rules), "the scheduled sweep keeps the tags right"
