"""Window tagging under attack (issue 13 items 3, 4): who may call it, where it answers, which window and
whose instances it may move. Each test is an attack that worked before the trust checks and the team model."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import tag_contract
from lambda_shared.custom_resource import origin_problem, response_url_problem

from devkit.moto_extensions.awslambda.models import lambda_context
from tests import aws
from tests.cfn_response import ResponseRecorder
from tests.lambda_src.test_window_tagging import FUNCTION, event, launched, props, run, stack_id, window

app = importlib.import_module("lambda_src.window_tagging.app")
MW, TEAM = tag_contract.MAINTENANCE_WINDOW_TAG, tag_contract.TEAM_TAG
ACCOUNT, REGION = aws.ACCOUNTS[0], aws.REGIONS[0]


@pytest.fixture
def cfn() -> Iterator[ResponseRecorder]:
    server = ResponseRecorder()
    yield server
    server.close()


def invoke(evt: dict[str, Any], account: str = ACCOUNT, region: str = REGION) -> aws.CallCounter:
    counter = aws.CallCounter()
    with aws.as_account(account, region) as default:
        counter.attach(default.events)
        app.handler(evt, lambda_context(FUNCTION, account, region))
    return counter


# --- who may call ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stack",
    [
        stack_id(aws.ACCOUNTS[1], REGION),  # another account's stack
        stack_id(ACCOUNT, aws.REGIONS[1]),  # another region's stack
        f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/my-own-stack/0f1e2d3c",  # not Service Catalog's
        f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/SC-{aws.ACCOUNTS[1]}-pp-abc/0f1e",  # someone else's SC name
        "not-an-arn",
        None,
    ],
)
def test_an_event_not_from_our_service_catalog_stack_moves_nothing(
    moto_aws: None, cfn: ResponseRecorder, stack: str | None
) -> None:
    sess = aws.session(ACCOUNT, REGION)
    instance = aws.run_instances(sess, {"environment": "Prod"})[0]
    evt = {**event(cfn, "Create", launched(sess)), "StackId": stack}
    counter = invoke(evt)
    assert counter.writes() == 0 and MW not in aws.instance_tags(sess, instance)
    assert cfn.bodies[-1]["Status"] == "FAILED" and "StackId" in cfn.bodies[-1]["Reason"]


def test_a_window_that_does_not_exist_or_has_another_name_is_refused(moto_aws: None, cfn: ResponseRecorder) -> None:
    sess = aws.session(ACCOUNT, REGION)
    instance = aws.run_instances(sess, {"environment": "Prod"})[0]
    other = aws.create_window(sess, window("Dev"))
    for window_id, reason in (("mw-0123456789abcdef0", "does not exist"), (other, "is named")):
        counter = invoke(event(cfn, "Create", props("Prod", window_id=window_id)))
        assert counter.writes() == 0 and MW not in aws.instance_tags(sess, instance)
        assert cfn.bodies[-1]["Status"] == "FAILED" and reason in cfn.bodies[-1]["Reason"]


# --- where it answers (no SSRF) ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://cloudformation-custom-resource-response-us-east-1.s3.amazonaws.com/x",  # not https
        "https://169.254.169.254/latest/meta-data/iam/security-credentials/",  # instance metadata
        "https://cloudformation-custom-resource-response-us-east-1.s3.amazonaws.com.evil.example/x",
        "https://evil.example/cloudformation-custom-resource-response-us-east-1.s3.amazonaws.com/x",
        "https://user@cloudformation-custom-resource-response-us-east-1.s3.amazonaws.com/x",
        "https://cloudformation-custom-resource-response-us-east-1.s3.amazonaws.com:8443/x",
        "https://cloudformation-custom-resource-response-eu-west-1.s3.amazonaws.com/x",  # another region's bucket
        "https://attacker-bucket.s3.amazonaws.com/x",  # an S3 bucket, not CloudFormation's
        "file:///etc/passwd",
        "",
    ],
)
def test_the_answer_never_goes_to_another_host(moto_aws: None, url: str) -> None:
    assert response_url_problem(url, REGION) is not None
    body = app.send_response(
        app.CloudFormationCustomResourceEvent({"ResponseURL": url}), "SUCCESS", "", "p", {}, REGION
    )
    assert body["Status"] == "SUCCESS"  # built, logged, never sent


def test_a_loopback_response_url_is_never_opened(moto_aws: None, cfn: ResponseRecorder) -> None:
    """The recorder's own address is a reachable host: an SSRF would reach it. Nothing arrives there."""
    sess = aws.session(ACCOUNT, REGION)
    evt = {**event(cfn, "Create", launched(sess)), "ResponseURL": cfn.loopback_url}
    invoke(evt)
    assert cfn.bodies == []


def test_cloudformations_own_hosts_are_accepted() -> None:
    for host in ("s3", "s3.us-east-1", "s3-us-east-1"):
        url = (
            f"https://cloudformation-custom-resource-response-us-east-1.{host}.amazonaws.com/arn%3A/x?X-Amz-Signature=a"
        )
        assert response_url_problem(url, "us-east-1") is None
    cn = "https://cloudformation-custom-resource-response-cn-north-1.s3.cn-north-1.amazonaws.com.cn/x"
    assert response_url_problem(cn, "cn-north-1") is None
    assert origin_problem(stack_id(ACCOUNT, REGION), ACCOUNT, REGION) is None


# --- teams --------------------------------------------------------------------------------------------------------


def test_team_a_cannot_move_team_bs_instances(moto_aws: None, cfn: ResponseRecorder) -> None:
    """Team A launches Scan-only/NoReboot/monthly for Prod: team B's instances stay on B's window (or Default)."""
    sess = aws.session(ACCOUNT, REGION)
    b_window = launched(sess, "Prod", team="team-b")
    assert run(cfn, ACCOUNT, REGION, event(cfn, "Create", b_window))["Status"] == "SUCCESS"
    b_instances = aws.run_instances(sess, {"environment": "Prod", TEAM: "team-b"}, count=2)
    b_unlaunched = aws.run_instances(sess, {"environment": "Dev", TEAM: "team-b"})
    a_instances = aws.run_instances(sess, {"environment": "Prod", TEAM: "team-a"})
    aws.create_asg(sess, "b-asg", {"environment": "Prod", TEAM: "team-b"}, desired=0)
    run(cfn, ACCOUNT, REGION, event(cfn, "Create", b_window))  # B's window now holds B's instances and ASG
    assert {t[MW] for t in aws.instances_tags(sess, b_instances).values()} == {window("Prod", "team-b")}

    a_prod, a_dev = launched(sess, "Prod", team="team-a"), launched(sess, "Dev", team="team-a")
    for properties in (a_prod, a_dev):
        assert run(cfn, ACCOUNT, REGION, event(cfn, "Create", properties))["Status"] == "SUCCESS"
    assert {t[MW] for t in aws.instances_tags(sess, b_instances).values()} == {window("Prod", "team-b")}
    assert aws.asg_tags(sess, "b-asg")[MW] == window("Prod", "team-b")
    assert aws.instance_tags(sess, b_unlaunched[0]).get(MW) != window("Dev", "team-a")
    assert aws.instance_tags(sess, a_instances[0])[MW] == window("Prod", "team-a")
    # A terminates its product: B is untouched by the move back as well
    run(cfn, ACCOUNT, REGION, event(cfn, "Delete", a_prod, PhysicalResourceId="a"))
    assert {t[MW] for t in aws.instances_tags(sess, b_instances).values()} == {window("Prod", "team-b")}
    assert aws.instance_tags(sess, a_instances[0])[MW] == tag_contract.DEFAULT_WINDOW


def test_unclaimed_instances_follow_only_an_unshared_environment(moto_aws: None, cfn: ResponseRecorder) -> None:
    sess = aws.session(ACCOUNT, REGION)
    unclaimed = aws.run_instances(sess, {"environment": "Test"})
    a = launched(sess, "Test", team="team-a")
    run(cfn, ACCOUNT, REGION, event(cfn, "Create", a))
    assert aws.instance_tags(sess, unclaimed[0])[MW] == window("Test", "team-a")  # nobody else claimed Test
    b = launched(sess, "Test", team="team-b")
    run(cfn, ACCOUNT, REGION, event(cfn, "Create", b))
    # two teams have Test windows: no team's schedule applies to instances nobody claimed
    assert aws.instance_tags(sess, unclaimed[0])[MW] == tag_contract.DEFAULT_WINDOW


def test_a_second_window_of_the_same_name_is_refused_and_delete_acts_by_id(
    moto_aws: None, cfn: ResponseRecorder
) -> None:
    sess = aws.session(ACCOUNT, REGION)
    instance = aws.run_instances(sess, {"environment": "Prod", TEAM: "team-a"})[0]
    first = launched(sess)
    assert run(cfn, ACCOUNT, REGION, event(cfn, "Create", first))["Status"] == "SUCCESS"
    second = launched(sess)  # the same team and environment again: same name, another window
    refused = run(cfn, ACCOUNT, REGION, event(cfn, "Create", second))
    assert refused["Status"] == "FAILED" and first["WindowId"] in refused["Reason"]
    # the second stack goes away (its Delete, had it been sent): the first window's instances stay put
    assert run(cfn, ACCOUNT, REGION, event(cfn, "Delete", second, PhysicalResourceId="2"))["Status"] == "SUCCESS"
    assert aws.instance_tags(sess, instance)[MW] == window("Prod")
    sess.client("ssm").delete_maintenance_window(WindowId=second["WindowId"])
    # the first stack's delete moves them back and frees the name
    run(cfn, ACCOUNT, REGION, event(cfn, "Delete", first, PhysicalResourceId="1"))
    assert aws.instance_tags(sess, instance)[MW] == tag_contract.DEFAULT_WINDOW
    sess.client("ssm").delete_maintenance_window(WindowId=first["WindowId"])
    third = launched(sess)
    assert run(cfn, ACCOUNT, REGION, event(cfn, "Create", third))["Status"] == "SUCCESS"


def test_a_stale_claim_of_a_deleted_window_is_taken_over(moto_aws: None, cfn: ResponseRecorder) -> None:
    sess = aws.session(ACCOUNT, REGION)
    gone = launched(sess)
    run(cfn, ACCOUNT, REGION, event(cfn, "Create", gone))
    sess.client("ssm").delete_maintenance_window(WindowId=gone["WindowId"])  # its stack lost without a Delete
    assert run(cfn, ACCOUNT, REGION, event(cfn, "Create", launched(sess)))["Status"] == "SUCCESS"


def test_concurrent_launches_of_one_team_and_environment_leave_one_window(moto_aws: None) -> None:
    """Issue 18 item 4: two launches at once, each through the product's template and its rollback."""
    from devkit.catalog_launch import launch_window_product

    sess = aws.session(ACCOUNT, REGION)
    aws.run_instances(sess, {"environment": "Prod", TEAM: "team-a"}, count=3)
    parameters = {"Team": "team-a", "Environment": "Prod", "IncludeASG": "No"}
    results: list[dict[str, Any]] = []
    barrier = threading.Barrier(2)

    def handler(evt: dict[str, Any]) -> Any:
        barrier.wait(timeout=30)  # both windows exist before either custom resource runs
        with aws.as_account(ACCOUNT, REGION):
            return app.handler(evt, lambda_context(FUNCTION, ACCOUNT, REGION))

    def launch() -> None:
        results.append(launch_window_product(sess, ACCOUNT, REGION, parameters, handler))

    with aws.as_account(ACCOUNT, REGION):
        threads = [threading.Thread(target=launch) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert sorted(r["StackStatus"] for r in results) == ["CREATE_COMPLETE", "ROLLBACK_COMPLETE"]
    names = [w["Name"] for w in sess.client("ssm").describe_maintenance_windows()["WindowIdentities"]]
    assert names.count(window("Prod")) == 1
    [winner] = [r for r in results if r["StackStatus"] == "CREATE_COMPLETE"]
    assert {w["WindowId"] for w in sess.client("ssm").describe_maintenance_windows()["WindowIdentities"]} == {
        winner["WindowId"]
    }
