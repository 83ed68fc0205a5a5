"""Window tagging custom resource on moto, answering a real local HTTP server like CloudFormation's ResponseURL."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import tag_contract

from devkit.moto_extensions.awslambda.models import lambda_context
from tests import aws
from tests.cfn_response import ResponseRecorder

app = importlib.import_module("lambda_src.window_tagging.app")
FUNCTION = "org-patching-window-tagging"

PG, MW = tag_contract.PATCH_GROUP_TAG, tag_contract.MAINTENANCE_WINDOW_TAG


CloudFormation = ResponseRecorder


@pytest.fixture
def cfn() -> Iterator[CloudFormation]:
    server = CloudFormation()
    yield server
    server.close()


TEAM = "team-a"


def stack_id(account: str, region: str) -> str:
    """A Service Catalog provisioned product's stack (``SC-<account>-pp-<id>``) in ``account``/``region``."""
    stack = f"SC-{account}-pp-abcdefghijklm/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    return f"arn:aws:cloudformation:{region}:{account}:stack/{stack}"


def event(
    cfn: CloudFormation,
    request_type: str,
    props: dict[str, Any],
    account: str = aws.ACCOUNTS[0],
    region: str = aws.REGIONS[0],
    **extra: Any,
) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "ResponseURL": cfn.url_for(region),
        "StackId": stack_id(account, region),
        "RequestId": "req-1",
        "LogicalResourceId": "EC2Tagging",
        "ResourceType": "Custom::EC2Tagging",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:...", **props},
        **extra,
    }


def window(env: str, team: str = TEAM) -> str:
    return tag_contract.team_window_name(env, team)


def props(
    env: str = "Prod", include_asg: str = "Yes", name: str | None = None, team: str = TEAM, window_id: str | None = None
) -> dict[str, str]:
    found = {
        "Environment": env,
        "Team": team,
        "WindowName": name or window(env, team),
        "IncludeASG": include_asg,
    }
    return {**found, "WindowId": window_id} if window_id else found


def launched(sess: Any, env: str = "Prod", include_asg: str = "Yes", team: str = TEAM) -> dict[str, str]:
    """The product's window exists (the stack created it before the custom resource): its properties."""
    return props(env, include_asg, team=team, window_id=aws.create_window(sess, window(env, team)))


def run(cfn: CloudFormation, account: str, region: str, evt: dict[str, Any]) -> dict[str, Any]:
    evt = {**evt, "StackId": stack_id(account, region), "ResponseURL": cfn.url_for(region)}
    before = len(cfn.bodies)
    with aws.as_account(account, region):
        app.handler(evt, lambda_context(FUNCTION, account, region))
    assert len(cfn.bodies) == before + 1, "CloudFormation was not answered exactly once"
    return cfn.bodies[-1]


def test_create_then_delete_moves_the_environment_and_back_in_every_account_and_region(
    moto_aws: None, cfn: CloudFormation
) -> None:
    for account in aws.ACCOUNTS:
        for region in aws.REGIONS:
            # every case in the first account+region; the core of it (instances in two states, an ASG) everywhere
            full = (account, region) == (aws.ACCOUNTS[0], aws.REGIONS[0])
            sess = aws.session(account, region)
            default = {PG: "Prod", MW: "Default_maintenance_window"}
            running = aws.run_instances(sess, {"environment": "prod", **default}, count=3)
            stopped = aws.run_instances(sess, {"environment": " PROD "})
            sess.client("ec2").stop_instances(InstanceIds=stopped)
            aws.create_asg(sess, "prod-asg", {"environment": "Prod", **default}, desired=1 if full else 0)
            if full:
                dev = aws.run_instances(sess, {"environment": "Dev", PG: "Dev", MW: "Default_maintenance_window"})
                exempt = aws.run_instances(sess, {"environment": "Prod", "install_patch": "no"})
                eks = aws.run_instances(sess, {"environment": "Prod", "aws:eks:cluster-name": "c"})
                aws.create_asg(sess, "ecs-asg", {"environment": "Prod", "AmazonECSManaged": ""}, desired=0)

            properties = launched(sess)
            created = run(cfn, account, region, event(cfn, "Create", properties))
            assert created["Status"] == "SUCCESS", created
            assert created["Data"]["InstancesTagged"] == 4 and created["Data"]["AsgsTagged"] == 1
            current = aws.instances_tags(sess, running + stopped)
            for instance_id in running + stopped:
                tags = current[instance_id]
                assert tags[MW] == window("Prod") and tags[PG] == "Prod"
                assert tags["environment"] in ("prod", " PROD ")  # never rewritten
            assert aws.asg_tags(sess, "prod-asg")[MW] == window("Prod")
            if full:
                assert aws.instance_tags(sess, dev[0])[MW] == "Default_maintenance_window"
                assert MW not in aws.instance_tags(sess, exempt[0]) and MW not in aws.instance_tags(sess, eks[0])
                assert MW not in aws.asg_tags(sess, "ecs-asg")
                # the ASG's members are patched through the ASG: never retagged here
                members = sess.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=["prod-asg"])
                member = members["AutoScalingGroups"][0]["Instances"][0]["InstanceId"]
                assert aws.instance_tags(sess, member).get(MW) == "Default_maintenance_window"  # its launch tags

            physical = created["PhysicalResourceId"]
            deleted = run(cfn, account, region, event(cfn, "Delete", properties, PhysicalResourceId=physical))
            assert deleted["Status"] == "SUCCESS" and deleted["PhysicalResourceId"] == physical
            assert {t[MW] for t in aws.instances_tags(sess, running + stopped).values()} == {
                "Default_maintenance_window"
            }
            assert aws.asg_tags(sess, "prod-asg")[MW] == "Default_maintenance_window"
    assert len({r["PhysicalResourceId"] for r in cfn.bodies}) == len(aws.ACCOUNTS)  # one stack per account
    assert cfn.headers[0]["Content-Type"] == ""


def test_update_to_another_environment_moves_both_and_keeps_the_physical_id(
    moto_aws: None, cfn: CloudFormation
) -> None:
    account, region = aws.ACCOUNTS[1], aws.REGIONS[0]
    sess = aws.session(account, region)
    test_ids = aws.run_instances(sess, {"environment": "Test"}, count=2)
    prod_ids = aws.run_instances(sess, {"environment": "Prod"}, count=2)
    aws.create_asg(sess, "test-asg", {"environment": "Test"}, desired=0)
    old = launched(sess, "Test", "No")
    created = run(cfn, account, region, event(cfn, "Create", old))
    assert created["Data"]["AsgsTagged"] == 0 and MW not in aws.asg_tags(sess, "test-asg")  # IncludeASG=No
    assert all(aws.instance_tags(sess, i)[MW] == window("Test") for i in test_ids)
    # CloudFormation creates the new window, updates the custom resource, then removes the old window
    new = launched(sess, "Prod")
    updated = run(
        cfn,
        account,
        region,
        event(cfn, "Update", new, PhysicalResourceId=created["PhysicalResourceId"], OldResourceProperties=old),
    )
    assert updated["Status"] == "SUCCESS" and updated["PhysicalResourceId"] == created["PhysicalResourceId"]
    assert all(aws.instance_tags(sess, i)[MW] == "Default_maintenance_window" for i in test_ids)
    assert all(aws.instance_tags(sess, i)[MW] == window("Prod") for i in prod_ids)
    # the old window's name is free again (released by its id), the new one is held by the new window
    ssm = sess.client("ssm")
    assert ssm.get_parameter(Name=f"/org-patching/windows/{window('Prod')}")["Parameter"]["Value"] == new["WindowId"]
    with pytest.raises(ssm.exceptions.ParameterNotFound):
        ssm.get_parameter(Name=f"/org-patching/windows/{window('Test')}")


def test_a_second_create_writes_nothing(moto_aws: None, cfn: CloudFormation) -> None:
    account, region = aws.ACCOUNTS[0], aws.REGIONS[1]
    sess = aws.session(account, region)
    aws.run_instances(sess, {"environment": "Dev"}, count=5)
    properties = launched(sess, "Dev")
    run(cfn, account, region, event(cfn, "Create", properties, account, region))
    counter = aws.CallCounter()
    with aws.as_account(account, region) as default:
        counter.attach(default.events)
        app.handler(event(cfn, "Create", properties, account, region), lambda_context(FUNCTION, account, region))
    assert counter.writes() == 0 and cfn.bodies[-1]["Data"]["InstancesTagged"] == 0


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({**props(), "Environment": "Production"}, "Environment: 'Production'"),
        ({**props(), "Environment": ""}, "Environment: ''"),
        ({"WindowName": "Prod_team-a_maintenance_window", "Team": TEAM}, "Environment: None"),
        (props(name="Dev_team-a_maintenance_window"), "WindowName"),
        (props(name="Prod_maintenance_window"), "WindowName"),
        ({**props(), "IncludeASG": "maybe", "WindowId": "mw-0123456789abcdef0"}, "IncludeASG"),
        ({**props(), "Team": "Team A"}, "Team: 'Team A'"),
        ({k: v for k, v in props().items() if k != "Team"}, "Team: None"),
        (props(), "WindowId: None"),
        (props(window_id="mw-0123456789abcdef0"), "does not exist"),
    ],
)
def test_bad_properties_fail_the_stack_with_a_reason_and_write_nothing(
    moto_aws: None, cfn: CloudFormation, properties: dict[str, str], message: str
) -> None:
    account, region = aws.ACCOUNTS[2], aws.REGIONS[0]
    instance = aws.run_instances(aws.session(account, region), {"environment": "Prod"})[0]
    counter = aws.CallCounter()
    with aws.as_account(account, region) as default:
        counter.attach(default.events)
        app.handler(event(cfn, "Create", properties, account, region), lambda_context(FUNCTION, account, region))
    response = cfn.bodies[-1]
    assert response["Status"] == "FAILED" and message in response["Reason"], response
    assert counter.writes() == 0
    assert MW not in aws.instance_tags(aws.session(account, region), instance)
    # deleting the failed resource must succeed (nothing to undo), or the stack could never be removed
    with aws.as_account(account, region):
        app.handler(
            event(cfn, "Delete", properties, account, region, PhysicalResourceId=response["PhysicalResourceId"]),
            lambda_context(FUNCTION, account, region),
        )
    assert cfn.bodies[-1]["Status"] == "SUCCESS"


def test_failures_are_answered_create_fails_delete_succeeds(moto_aws: None, cfn: CloudFormation) -> None:
    account, region = aws.ACCOUNTS[0], aws.REGIONS[0]
    aws.run_instances(aws.session(account, region), {"environment": "Test"})
    properties = launched(aws.session(account, region), "Test")
    with aws.as_account(account, region) as default:
        aws.deny(default.events, ("CreateTags",))
        app.handler(event(cfn, "Create", properties), lambda_context(FUNCTION, account, region))
        app.handler(
            event(cfn, "Delete", properties, PhysicalResourceId="pid"), lambda_context(FUNCTION, account, region)
        )
    create, delete = cfn.bodies[-2:]
    assert create["Status"] == "FAILED" and "UnauthorizedOperation" in create["Reason"]
    assert create["Data"]["Errors"] == 1
    assert delete["Status"] == "SUCCESS" and delete["Data"]["Errors"] == 1
    # an unexpected crash (here: describe denied) is answered too
    with aws.as_account(account, region) as default:
        aws.deny(default.events, ("DescribeMaintenanceWindows",), service="ssm")
        app.handler(event(cfn, "Create", properties), lambda_context(FUNCTION, account, region))
    assert cfn.bodies[-1]["Status"] == "FAILED" and "AccessDenied" in cfn.bodies[-1]["Reason"]
    # an unknown request type as well
    with aws.as_account(account, region):
        app.handler(event(cfn, "Replace", properties), lambda_context(FUNCTION, account, region))
    assert cfn.bodies[-1]["Status"] == "FAILED" and "RequestType" in cfn.bodies[-1]["Reason"]
    assert len(json.dumps(cfn.bodies[-1])) < 4096


def test_unreachable_response_url_does_not_raise(moto_aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "SEND_RETRY_DELAY", 0)
    with aws.as_account(aws.ACCOUNTS[0], aws.REGIONS[0]):
        context = lambda_context(FUNCTION, aws.ACCOUNTS[0], aws.REGIONS[0])
        body = app.handler({"RequestType": "Create", "ResponseURL": "http://127.0.0.1:9/x"}, context)
    assert body["Status"] == "FAILED"


def test_throttling_on_30_percent_of_calls_still_moves_everything(
    moto_aws: None, cfn: CloudFormation, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "12")
    account, region = aws.ACCOUNTS[2], aws.REGIONS[1]
    sess = aws.session(account, region)
    ids = aws.run_instances(sess, {"environment": "Test"}, count=6) + aws.run_instances(sess, {"environment": "test"})
    for n in range(4):
        aws.create_asg(sess, f"t-{n}", {"environment": "Test"}, desired=0)
    properties = launched(sess, "Test")
    with aws.as_account(account, region) as default:
        injected = aws.throttle_randomly(default.events, rate=0.3, seed=1)
        app.handler(event(cfn, "Create", properties, account, region), lambda_context(FUNCTION, account, region))
    assert injected() >= 2
    assert cfn.bodies[-1]["Status"] == "SUCCESS", cfn.bodies[-1]
    assert {t[MW] for t in aws.instances_tags(sess, ids).values()} == {window("Test")}
    assert {aws.asg_tags(sess, f"t-{n}")[MW] for n in range(4)} == {window("Test")}


def test_metrics_count_what_was_moved(moto_aws: None, cfn: CloudFormation, capsys: pytest.CaptureFixture[str]) -> None:
    account, region = aws.ACCOUNTS[1], aws.REGIONS[1]
    sess = aws.session(account, region)
    aws.run_instances(sess, {"environment": "Dev"}, count=2)
    aws.run_instances(sess, {"environment": "Dev", "aws:eks:cluster-name": "c"})
    capsys.readouterr()
    assert run(cfn, account, region, event(cfn, "Create", launched(sess, "Dev")))["Status"] == "SUCCESS"
    [line] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    # embedded metric format: each metric's values as a list
    assert (line["ResourcesTagged"], line["ResourcesSkipped"], line["ResourcesFailed"]) == ([2], [1], [0])
