"""Tag remediation on moto: every contract rule, across 3 accounts x 2 regions, with throttling and AccessDenied."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
import tag_contract
from botocore.exceptions import InvalidRetryConfigurationError
from hypothesis import given
from hypothesis import strategies as st
from lambda_shared.fleet import Fleet

from devkit.moto_extensions.awslambda.models import lambda_context
from tests import aws

app = importlib.import_module("lambda_src.tag_remediation.app")
FUNCTION = "org-patching-tag-remediation"

SCHEDULED = {
    "version": "0",
    "id": "e1",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "111111111111",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:111111111111:rule/org-patching-sweep"],
    "detail": {},
}


def config_event(resource_type: str, resource_id: str, account: str, region: str, compliance: str = "NON_COMPLIANT"):
    """A "Config Rules Compliance Change" event as EventBridge delivers it."""
    return {
        "version": "0",
        "id": "e2",
        "detail-type": "Config Rules Compliance Change",
        "source": "aws.config",
        "account": account,
        "region": region,
        "resources": [],
        "detail": {
            "resourceId": resource_id,
            "awsRegion": region,
            "awsAccountId": account,
            "configRuleName": "org-patching-patch-tags",
            "messageType": "ComplianceChangeNotification",
            "resourceType": resource_type,
            "newEvaluationResult": {"complianceType": compliance},
        },
    }


def sweep(account: str, region: str, counter: aws.CallCounter | None = None) -> dict[str, Any]:
    with aws.as_account(account, region) as default:
        if counter:
            counter.attach(default.events)
        return app.handler(
            {**SCHEDULED, "account": account, "region": region}, lambda_context(FUNCTION, account, region)
        )


def invoke(event: Any, account: str, region: str, counter: aws.CallCounter | None = None) -> dict[str, Any]:
    with aws.as_account(account, region) as default:
        if counter:
            counter.attach(default.events)
        return app.handler(event, lambda_context(FUNCTION, account, region))


PG, MW = tag_contract.PATCH_GROUP_TAG, tag_contract.MAINTENANCE_WINDOW_TAG


def expected(group: str, window: str) -> dict[str, str]:
    return {PG: group, MW: window}


# --- the contract, instance by instance ------------------------------------------------------------------------

ENV_CASES = [
    # (environment tag or None, custom windows present, expected group, expected window, has note)
    ("Prod", True, "Prod", "Prod_maintenance_window", False),
    ("prod", True, "Prod", "Prod_maintenance_window", False),
    ("PROD", True, "Prod", "Prod_maintenance_window", False),
    (" Prod ", True, "Prod", "Prod_maintenance_window", False),
    ("Production", True, "Default", "Default_maintenance_window", True),
    ("", True, "Default", "Default_maintenance_window", True),
    (None, True, "Default", "Default_maintenance_window", True),
    ("Dev", True, "Dev", "Default_maintenance_window", False),  # no Dev window in this account+region
    ("test", True, "Test", "Test_maintenance_window", False),
    ("Prod", False, "Prod", "Default_maintenance_window", False),  # no custom window at all
]


def test_contract_rules_for_instances_in_every_account_and_region(moto_aws: None) -> None:
    """3 accounts x 2 regions; windows exist only in some: each instance ends with exactly the contract's tags."""
    placed: dict[tuple[str, str], list[tuple[str, tuple[Any, ...]]]] = {}
    for account in aws.ACCOUNTS:
        for region in aws.REGIONS:
            sess = aws.session(account, region)
            aws.create_window(sess, "Prod_maintenance_window")
            aws.create_window(sess, "Test_maintenance_window")
            aws.create_window(sess, "unrelated-window")
            other = aws.session(account, "ap-southeast-2")  # a window elsewhere must not count
            aws.create_window(other, "Dev_maintenance_window")
            items = []
            # every case in one account+region per region; a representative subset in the others
            full = account == aws.ACCOUNTS[0]
            for case in ENV_CASES:
                env, with_windows, *_ = case
                if not with_windows or (not full and env not in ("PROD", None, "Dev")):
                    continue
                tags = {"Name": "web", "owner": "team-a"}
                if env is not None:
                    tags[tag_contract.ENVIRONMENT_TAG] = env
                items.append((aws.run_instances(sess, tags)[0], case))
            placed[(account, region)] = items
    # one account+region without any custom window
    bare = aws.session(aws.ACCOUNTS[0], "us-west-2")
    bare_id = aws.run_instances(bare, {tag_contract.ENVIRONMENT_TAG: "Prod"})[0]

    for (account, region), items in placed.items():
        result = sweep(account, region)
        assert result["errors"] == []
        sess = aws.session(account, region)
        current = aws.instances_tags(sess, [i for i, _ in items])
        for instance_id, (env, _, group, window, has_note) in items:
            tags = current[instance_id]
            assert {k: tags.get(k) for k in (PG, MW)} == expected(group, window), (env, tags)
            assert result["tagged"][instance_id] == expected(group, window)
            # the owner's tags are never touched, environment included (seed bug 4)
            assert tags.get("owner") == "team-a"
            assert tags.get(tag_contract.ENVIRONMENT_TAG) == env
            assert (instance_id in result["notes"]) is has_note
            if env == "Production":
                assert "'Production' is not one of" in result["notes"][instance_id]
    result = sweep(aws.ACCOUNTS[0], "us-west-2")
    assert aws.instance_tags(bare, bare_id)[MW] == "Default_maintenance_window"
    assert result["tagged"][bare_id] == expected("Prod", "Default_maintenance_window")


def test_skips_exempt_and_managed_resources_with_reasons(moto_aws: None) -> None:
    account, region = aws.ACCOUNTS[1], aws.REGIONS[1]
    sess = aws.session(account, region)
    cases = {
        "exempt": {"environment": "Prod", "install_patch": "no"},
        "exempt-seed-spelling": {"environment": "Prod", "patch_install": "NO"},
        "eks": {"environment": "Prod", "aws:eks:cluster-name": "c1"},
        "ecs-prefix": {"aws:ecs:clusterName": "c1"},
    }
    ids = {name: aws.run_instances(sess, tags)[0] for name, tags in cases.items()}
    # marker tags anyone can write are no evidence on a plain instance (issue 13 item 6): tagged like any other
    markers = {
        "eks:nodegroup-name": {"environment": "Prod", "eks:nodegroup-name": "ng-1", "eks:cluster-name": "c"},
        "eksctl": {"alpha.eksctl.io/nodegroup-name": "ng-2"},
        "k8s": {"kubernetes.io/cluster/prod": "owned"},
        "ecs": {"environment": "Dev", "AmazonECSManaged": ""},
    }
    marked = {name: aws.run_instances(sess, tags)[0] for name, tags in markers.items()}
    # a value mentioning "ecs" must NOT exempt (seed bug 3)
    specs = aws.run_instances(sess, {"environment": "Dev", "app": "specs-records"})[0]
    aws.create_asg(sess, "member-asg", {"environment": "Prod"}, desired=2)
    aws.create_asg(sess, "eks-asg", {"k8s.io/cluster-autoscaler/enabled": "true"}, desired=0)
    aws.create_asg(sess, "exempt-asg", {"environment": "Prod", "install_patch": "No"}, desired=0)
    members = [
        i["InstanceId"]
        for i in sess.client("autoscaling").describe_auto_scaling_instances()["AutoScalingInstances"]
        if i["AutoScalingGroupName"] == "member-asg"
    ]
    assert len(members) == 2
    counter = aws.CallCounter()
    result = sweep(account, region, counter)

    for name, instance_id in ids.items():
        reason = result["skipped"][instance_id]
        assert reason.startswith("exempt" if name.startswith("exempt") else "managed"), (name, reason)
        assert PG not in aws.instance_tags(sess, instance_id)
    assert "EKS" in result["skipped"][ids["eks"]] and "ECS" in result["skipped"][ids["ecs-prefix"]]
    for name, instance_id in marked.items():
        assert instance_id not in result["skipped"], name
        assert aws.instance_tags(sess, instance_id)[MW] == "Default_maintenance_window", name
    assert aws.instance_tags(sess, marked["ecs"])[PG] == "Dev"
    for member in members:
        assert "Auto Scaling group member-asg" in result["skipped"][member]
        assert MW not in aws.instance_tags(sess, member)
    assert "EKS" in result["skipped"]["asg/eks-asg"]
    assert result["skipped"]["asg/exempt-asg"].startswith("exempt")
    assert aws.asg_tags(sess, "exempt-asg").keys() == {"environment", "install_patch"}
    # the ASG itself is tagged (and its members are not)
    assert result["tagged"]["asg/member-asg"] == expected("Prod", "Default_maintenance_window")
    assert aws.instance_tags(sess, specs)[PG] == "Dev"
    # one CreateTags per tag set (Prod, Default, Dev), one CreateOrUpdateTags for the one ASG
    assert counter.calls.get("CreateTags") == 3 and counter.calls.get("CreateOrUpdateTags") == 1


def test_second_run_makes_zero_writes_and_identical_tag_sets_share_one_call(moto_aws: None) -> None:
    account, region = aws.ACCOUNTS[2], aws.REGIONS[0]
    sess = aws.session(account, region)
    aws.create_window(sess, "Prod_maintenance_window")
    prod = aws.run_instances(sess, {"environment": "Prod"}, count=30)
    dev = aws.run_instances(sess, {"environment": "dev"}, count=12)
    half = aws.run_instances(sess, {"environment": "Prod", PG: "Prod"}, count=5)  # only the window is missing
    stopped = aws.run_instances(sess, {"environment": "Prod"})
    sess.client("ec2").stop_instances(InstanceIds=stopped)
    aws.create_asg(sess, "api", {"environment": "Prod"}, desired=0)
    first = aws.CallCounter()
    result = sweep(account, region, first)
    assert len(result["tagged"]) == 30 + 12 + 5 + 1 + 1
    assert result["tagged"][half[0]] == {MW: "Prod_maintenance_window"}  # a correct tag is never rewritten
    assert aws.instance_tags(sess, stopped[0])[MW] == "Prod_maintenance_window"  # stopped too (seed bug 11)
    # 3 distinct tag sets (Prod both, Dev both, window only) -> 3 CreateTags; 1 ASG -> 1 CreateOrUpdateTags
    assert first.calls["CreateTags"] == 3
    assert first.calls["CreateOrUpdateTags"] == 1
    second = aws.CallCounter()
    again = sweep(account, region, second)
    assert second.writes() == 0
    assert again["tagged"] == {} and again["errors"] == []
    assert again["unchanged"] == 30 + 12 + 5 + 1 + 1
    assert all(aws.instance_tags(sess, i)[PG] == "Dev" for i in dev)
    assert all(aws.instance_tags(sess, i)[MW] == "Prod_maintenance_window" for i in prod)


def test_wrong_values_are_corrected_and_asg_tags_stay_on_the_group(moto_aws: None) -> None:
    account, region = aws.ACCOUNTS[0], aws.REGIONS[1]
    sess = aws.session(account, region)
    # Prod window was deleted: instances still point at it and must move back to Default (seed bug 11)
    stale = aws.run_instances(sess, {"environment": "Prod", PG: "Prod", MW: "Prod_maintenance_window"})[0]
    # An ASG whose (right) Patch Group propagates to its members: members would be patched in place
    # by every window and wave although the rebake patches them, so it is rewritten without propagation.
    aws.create_asg(sess, "legacy", {"environment": "Test", PG: "Test", MW: "Default_maintenance_window"}, desired=0)
    result = sweep(account, region)
    assert result["tagged"][stale] == {MW: "Default_maintenance_window"}
    assert result["tagged"]["asg/legacy"] == expected("Test", "Default_maintenance_window")
    group = sess.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["legacy"])
    flags = {t["Key"]: t["PropagateAtLaunch"] for t in group["AutoScalingGroups"][0]["Tags"]}
    assert flags[PG] is False and flags[MW] is False and flags["environment"] is True  # the team's tag untouched
    assert sweep(account, region)["tagged"] == {}  # and it stays that way


# --- Config events ---------------------------------------------------------------------------------------------


def test_config_events_for_an_instance_and_an_asg_by_arn_and_by_name(moto_aws: None) -> None:
    account, region = aws.ACCOUNTS[1], aws.REGIONS[0]
    sess = aws.session(account, region)
    aws.create_window(sess, "Test_maintenance_window")
    target = aws.run_instances(sess, {"environment": "TEST"})[0]
    other = aws.run_instances(sess, {"environment": "Test"})[0]
    aws.create_asg(sess, "by-arn", {"environment": "Test"}, desired=0)
    aws.create_asg(sess, "by-name", {"environment": "prod"}, desired=0)
    arn = sess.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["by-arn"])[
        "AutoScalingGroups"
    ][0]["AutoScalingGroupARN"]
    assert "autoScalingGroupName/by-arn" in arn

    result = invoke(config_event("AWS::EC2::Instance", target, account, region), account, region)
    assert result["tagged"] == {target: expected("Test", "Test_maintenance_window")}
    assert PG not in aws.instance_tags(sess, other)  # only the reported resource is touched

    result = invoke(config_event("AWS::AutoScaling::AutoScalingGroup", arn, account, region), account, region)
    assert result["tagged"] == {"asg/by-arn": expected("Test", "Test_maintenance_window")}
    result = invoke(config_event("AWS::AutoScaling::AutoScalingGroup", "by-name", account, region), account, region)
    assert result["tagged"] == {"asg/by-name": expected("Prod", "Default_maintenance_window")}
    assert aws.asg_tags(sess, "by-arn")[PG] == "Test"  # the first event did tag it


MALFORMED = [
    ("not a dict", ["i-1"], "expected a JSON object"),
    ("other detail-type", {"detail-type": "EC2 Instance State-change Notification", "detail": {}}, "detail-type"),
    ("missing detail-type", {"source": "aws.config", "detail": {}}, "detail-type"),
    ("missing detail", {"detail-type": "Config Rules Compliance Change"}, "detail:"),
    (
        "missing resourceId",
        {"detail-type": "Config Rules Compliance Change", "detail": {"resourceType": "AWS::EC2::Instance"}},
        "detail.resourceId",
    ),
    (
        "empty resourceId",
        {
            "detail-type": "Config Rules Compliance Change",
            "detail": {"resourceType": "AWS::EC2::Instance", "resourceId": "  "},
        },
        "detail.resourceId",
    ),
    (
        "unknown resource type",
        {
            "detail-type": "Config Rules Compliance Change",
            "detail": {"resourceType": "AWS::EC2::Volume", "resourceId": "vol-1"},
        },
        "detail.resourceType: 'AWS::EC2::Volume'",
    ),
    (
        "ASG ARN of something else",
        {
            "detail-type": "Config Rules Compliance Change",
            "detail": {
                "resourceType": "AWS::AutoScaling::AutoScalingGroup",
                "resourceId": "arn:aws:autoscaling:us-east-1:1:launchConfiguration:x",
            },
        },
        "not an Auto Scaling group ARN",
    ),
]


@pytest.mark.parametrize(("case", "event", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_events_are_skipped_with_a_reason_and_make_no_call(
    moto_aws: None, case: str, event: Any, message: str
) -> None:
    account, region = aws.ACCOUNTS[0], aws.REGIONS[0]
    aws.run_instances(aws.session(account, region), {"environment": "Prod"})
    counter = aws.CallCounter()
    result = invoke(event, account, region, counter)
    assert counter.total == 0, counter.calls
    assert result["tagged"] == {} and result["errors"] == []
    assert message in result["skipped"]["event"], result


def test_resources_deleted_before_the_handler_runs_are_skipped_without_writes(moto_aws: None) -> None:
    account, region = aws.ACCOUNTS[2], aws.REGIONS[1]
    sess = aws.session(account, region)
    gone = aws.run_instances(sess, {"environment": "Prod"})[0]
    sess.client("ec2").terminate_instances(InstanceIds=[gone])
    never = "i-0000000000000dead"
    counter = aws.CallCounter()
    terminated = invoke(config_event("AWS::EC2::Instance", gone, account, region), account, region, counter)
    missing = invoke(config_event("AWS::EC2::Instance", never, account, region), account, region, counter)
    asg = invoke(config_event("AWS::AutoScaling::AutoScalingGroup", "deleted-asg", account, region), account, region)
    na = invoke(config_event("AWS::EC2::Instance", never, account, region, "NOT_APPLICABLE"), account, region)
    assert counter.writes() == 0
    assert terminated["skipped"][gone] in ("instance is terminated", "instance is shutting-down")
    assert "not found" in missing["skipped"][never]
    assert "not found" in asg["skipped"]["asg/deleted-asg"]
    assert "NOT_APPLICABLE" in na["skipped"][never]
    for result in (terminated, missing, asg, na):
        assert result["tagged"] == {} and result["errors"] == []


# --- resilience ------------------------------------------------------------------------------------------------


def test_throttling_on_30_percent_of_calls_still_tags_everything(
    moto_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "12")
    account, region = aws.ACCOUNTS[0], aws.REGIONS[0]
    sess = aws.session(account, region)
    aws.create_window(sess, "Dev_maintenance_window")
    envs: list[str | None] = ["Dev", "Test", "Prod", "prod", None]
    ids = []
    for env in envs:
        ids.extend(aws.run_instances(sess, {"environment": env} if env else {"Name": "none"}, count=8))
    for n in range(6):
        aws.create_asg(sess, f"asg-{n}", {"environment": str(envs[n % 3])}, desired=0)
    # a targeted event too, so single-resource paths are throttled as well
    results = []
    with aws.as_account(account, region) as default:
        injected = aws.throttle_randomly(default.events, rate=0.3, seed=11)
        context = lambda_context(FUNCTION, account, region)
        results.append(app.handler({**SCHEDULED}, context))
        results.append(app.handler(config_event("AWS::EC2::Instance", ids[0], account, region), context))
    assert injected() >= 3
    assert all(r["errors"] == [] for r in results), results
    assert all(set(tags) >= {PG, MW} for tags in aws.instances_tags(sess, ids).values())
    for n in range(6):
        assert set(aws.asg_tags(sess, f"asg-{n}")) >= {PG, MW}
    assert aws.instance_tags(sess, ids[0])[MW] == "Dev_maintenance_window"


def test_access_denied_in_one_account_is_reported_and_does_not_stop_the_others(moto_aws: None) -> None:
    """The sweep runs per account+region (one Lambda each); a fleet driver keeps going after a failure."""
    fleet: dict[tuple[str, str], list[str]] = {}
    for account in aws.ACCOUNTS:
        for region in aws.REGIONS:
            sess = aws.session(account, region)
            fleet[(account, region)] = aws.run_instances(sess, {"environment": "Test"}, count=3)
            aws.create_asg(sess, f"asg-{region}", {"environment": "Test"}, desired=0)
    denied_account = aws.ACCOUNTS[1]
    results = {}
    for account, region in fleet:
        with aws.as_account(account, region) as default:
            if account == denied_account:
                aws.deny(default.events, ("CreateTags",))
            event = {**SCHEDULED, "account": account, "region": region}
            results[(account, region)] = app.handler(event, lambda_context(FUNCTION, account, region))
    for (account, region), ids in fleet.items():
        result = results[(account, region)]
        sess = aws.session(account, region)
        # ASG tagging is a different API and still happens in the denied account
        assert aws.asg_tags(sess, f"asg-{region}")[PG] == "Test"
        if account == denied_account:
            [error] = result["errors"]
            assert error["account"] == denied_account and error["region"] == region
            assert error["code"] == "UnauthorizedOperation" and error["action"] == "ec2:CreateTags"
            assert sorted(error["resources"]) == sorted(ids)
            assert not any(i in result["tagged"] for i in ids)
            assert PG not in aws.instance_tags(sess, ids[0])
        else:
            assert result["errors"] == []
            assert all(aws.instance_tags(sess, i)[PG] == "Test" for i in ids)


def test_access_denied_on_describe_is_reported_not_raised(moto_aws: None) -> None:
    account, region = aws.ACCOUNTS[2], aws.REGIONS[0]
    with aws.as_account(account, region) as default:
        aws.deny(default.events, ("DescribeMaintenanceWindows",), service="ssm")
        result = app.handler(SCHEDULED, lambda_context(FUNCTION, account, region))
        # a context whose function ARN names no account: the event's account is named instead
        anonymous = app.handler(SCHEDULED, lambda_context(FUNCTION, "", region))
    [error] = result["errors"]
    assert error["code"] == "AccessDenied" and error["account"] == account  # the function's account
    assert anonymous["errors"][0]["account"] == "111111111111"  # the event's account


def test_botocore_errors_are_reported_per_account_region_not_raised(moto_aws: None) -> None:
    """An unreachable endpoint on the describe, a refused request on the write: botocore's own
    errors (not ClientError) are error entries with the account and region, like AccessDenied,
    instead of failing the invocation into the DLQ."""
    from botocore.exceptions import EndpointConnectionError

    def unreachable(**_: Any) -> None:
        raise EndpointConnectionError(endpoint_url="https://ssm.eu-west-1.amazonaws.com/")

    account, region = aws.ACCOUNTS[1], SCHEDULED["region"]  # the sweep covers the region its event names
    with aws.as_account(account, region) as default:
        default.events.register("before-send.ssm.DescribeMaintenanceWindows", unreachable)
        result = app.handler(SCHEDULED, lambda_context(FUNCTION, account, region))
    [error] = result["errors"]
    assert (error["code"], error["account"], error["region"], error["action"]) == (
        "EndpointConnectionError",
        account,
        region,
        "describe",
    )

    sess = aws.session(account, region)
    instance = aws.run_instances(sess, {"environment": "Dev"})[0]
    with aws.as_account(account, region) as default:
        default.events.register("before-send.ec2.CreateTags", unreachable)
        result = app.handler(SCHEDULED, lambda_context(FUNCTION, account, region))
    [error] = result["errors"]
    assert error["code"] == "EndpointConnectionError" and error["resources"] == [instance]
    assert error["action"] == "ec2:CreateTags" and instance not in result["tagged"]


def test_dry_run_reports_without_writing(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    account, region = aws.ACCOUNTS[0], aws.REGIONS[1]
    sess = aws.session(account, region)
    instance = aws.run_instances(sess, {"environment": "Prod"})[0]
    counter = aws.CallCounter()
    result = sweep(account, region, counter)
    assert result["dryRun"] is True and result["tagged"][instance] == expected("Prod", "Default_maintenance_window")
    assert counter.writes() == 0 and PG not in aws.instance_tags(sess, instance)


def test_retries_come_from_the_environment_botocore_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """The program sets AWS_RETRY_MODE/AWS_MAX_ATTEMPTS on the function; botocore applies them to every client."""
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "12")
    fleet = Fleet("eu-west-1")
    for client in (fleet.ec2, fleet.autoscaling, fleet.ssm):
        assert client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 12}
    monkeypatch.setenv("AWS_RETRY_MODE", "sometimes")
    with pytest.raises(InvalidRetryConfigurationError):
        Fleet("eu-west-1")


def test_metrics_count_tagged_skipped_and_failed(moto_aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    account, region = aws.ACCOUNTS[1], aws.REGIONS[0]
    sess = aws.session(account, region)
    aws.run_instances(sess, {"environment": "Prod"}, count=3)
    aws.run_instances(sess, {"environment": "Prod", "install_patch": "no"})
    aws.create_asg(sess, "api", {"environment": "Prod"}, desired=0)
    with aws.as_account(account, region) as default:
        aws.deny(default.events, ("CreateOrUpdateTags",), service="auto-scaling")
        capsys.readouterr()
        result = app.handler(
            {**SCHEDULED, "account": account, "region": region}, lambda_context(FUNCTION, account, region)
        )
    [line] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    # embedded metric format: each metric's values as a list
    assert (line["ResourcesTagged"], line["ResourcesSkipped"], line["ResourcesFailed"]) == ([3], [1], [1])
    assert line["service"] == FUNCTION and line["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "OrgPatching"
    assert len(result["tagged"]) == 3 and len(result["errors"]) == 1


# --- the pure planner ------------------------------------------------------------------------------------------

tag_values = st.sampled_from(["Prod", "prod", " Dev ", "Test", "Production", "", "Default", "no", "x"])
tag_keys = st.sampled_from(
    ["environment", PG, MW, "install_patch", "eks:cluster-name", "aws:autoscaling:groupName", "app", "AmazonECSManaged"]
)
resources = st.lists(
    st.tuples(st.dictionaries(tag_keys, tag_values, max_size=5), st.sampled_from(["instance", "asg"])), max_size=25
)
windows = st.sets(st.sampled_from((*tag_contract.WINDOW_NAMES, "other")))


@given(resources, windows)
def test_plan_applied_once_leaves_nothing_to_do(items: list[tuple[dict[str, str], str]], custom: set[str]) -> None:
    """Property: after applying a plan, planning again writes nothing, and every resource is accounted for."""
    fleet = [
        app.Resource(key=(f"asg/a{n}" if kind == "asg" else f"i-{n}"), kind=kind, tags=tags)  # type: ignore[arg-type]
        for n, (tags, kind) in enumerate(items)
    ]
    first = app.plan(fleet, custom)
    written: dict[str, dict[str, str]] = {}
    for tag_set, ids in first.instance_batches.items():
        for instance_id in ids:
            written[instance_id] = dict(tag_set)
    for name, tags in first.asg_writes.items():
        written[f"asg/{name}"] = tags
    assert len(first.skipped) + len(first.unchanged) + len(written) == len(fleet)
    after = [app.Resource(key=r.key, kind=r.kind, tags={**r.tags, **written.get(r.key, {})}) for r in fleet]
    second = app.plan(after, custom)
    assert not second.instance_batches and not second.asg_writes
    # batches never mix tag sets and never write a key outside the contract's managed keys
    for tag_set in first.instance_batches:
        assert {k for k, _ in tag_set} <= set(tag_contract.MANAGED_TAG_KEYS)


def test_events_about_another_account_are_skipped_and_errors_name_the_functions_account(moto_aws: None) -> None:
    """A central bus may forward another account's Config events: the function never guesses, it says why."""
    account, region = aws.ACCOUNTS[0], aws.REGIONS[0]
    instance = aws.run_instances(aws.session(account, region), {"environment": "Prod"})[0]
    foreign = config_event("AWS::EC2::Instance", instance, aws.ACCOUNTS[1], region)
    counter = aws.CallCounter()
    with aws.as_account(account, region) as default:
        counter.attach(default.events)
        result = app.handler(foreign, lambda_context(FUNCTION, account, region))
    assert counter.total == 0
    assert result["skipped"][instance].startswith(f"not this account: the resource is in {aws.ACCOUNTS[1]}")
    with aws.as_account(account, region) as default:
        aws.deny(default.events, ("CreateTags",))
        denied = app.handler({**SCHEDULED, "account": "000000000000"}, lambda_context(FUNCTION, account, region))
    assert denied["errors"][0]["account"] == account


def test_a_sweep_target_names_the_region_it_sweeps(moto_aws: None) -> None:
    """One function per account (home region) sweeps every region: each schedule target's
    event names its region, and only that region is reconciled."""
    account, home, other = aws.ACCOUNTS[1], aws.REGIONS[0], aws.REGIONS[1]
    [far] = aws.run_instances(aws.session(account, other), {"environment": "Dev"})
    [near] = aws.run_instances(aws.session(account, home), {"environment": "Dev"})
    result = invoke({**SCHEDULED, "account": account, "region": other}, account, home)
    assert set(result["tagged"]) == {far}
    assert near not in result["tagged"]
    assert aws.instance_tags(aws.session(account, other), far)[PG] == "Dev"


@pytest.mark.parametrize("region", ["", "Moon", 42])
def test_a_sweep_naming_a_bad_region_is_skipped_with_the_reason(moto_aws: None, region: Any) -> None:
    result = invoke({**SCHEDULED, "region": region}, aws.ACCOUNTS[0], aws.REGIONS[0])
    assert result["tagged"] == {} and "region" in result["skipped"]["event"]


def test_an_exemption_after_tagging_holds_at_patch_time(moto_aws: None) -> None:
    """Issue 13 item 5: an instance tagged into Prod's window, then exempted by its owner, used to keep
    its managed tags and so stayed a target of the window (and of emergency waves, which select by
    ``Patch Group``). The sweep now deletes them; the window run that follows skips it, and the
    tag-driven lists (what the report reads) show it as exempt, not in any patch group."""
    from devkit.moto_extensions.ssm.models import patch_runs

    account, region = aws.ACCOUNTS[0], aws.REGIONS[0]
    sess = aws.session(account, region)
    aws.create_window(sess, "Prod_maintenance_window")
    profile = aws.create_instance_profile(sess)
    keep, exempted = (aws.run_instances(sess, {"environment": "Prod"}, profile=profile)[0] for _ in range(2))
    aws.create_asg(sess, "api", {"environment": "Prod"}, desired=0)
    sweep(account, region)
    assert aws.instance_tags(sess, exempted)[MW] == "Prod_maintenance_window"

    sess.client("ec2").create_tags(Resources=[exempted], Tags=[{"Key": "install_patch", "Value": "No"}])
    sess.client("autoscaling").create_or_update_tags(
        Tags=[
            {"ResourceId": "api", "ResourceType": "auto-scaling-group", "Key": "patch_install", "Value": "no"}
            | {"PropagateAtLaunch": True}
        ]
    )
    counter = aws.CallCounter()
    result = sweep(account, region, counter)
    assert result["untagged"] == {exempted: [PG, MW], "asg/api": [PG, MW]}
    assert result["skipped"][exempted] == "exempt: tag install_patch=No" and result["errors"] == []
    assert PG not in aws.instance_tags(sess, exempted) and MW not in aws.instance_tags(sess, exempted)
    assert aws.asg_tags(sess, "api").keys() == {"environment", "patch_install"}
    assert counter.calls.get("DeleteTags") == 2  # one per service

    ran = patch_runs.simulate_window_run(account, region, "Prod_maintenance_window", "Install")
    assert sorted(ran) == [keep]
    by_group = sess.client("ec2").describe_instances(Filters=[{"Name": f"tag:{PG}", "Values": ["Prod"]}])
    assert [i["InstanceId"] for r in by_group["Reservations"] for i in r["Instances"]] == [keep]
    # nothing left to remove: the next sweep writes and deletes nothing
    again = aws.CallCounter()
    assert sweep(account, region, again)["untagged"] == {}
    assert "DeleteTags" not in again.calls and "CreateTags" not in again.calls
