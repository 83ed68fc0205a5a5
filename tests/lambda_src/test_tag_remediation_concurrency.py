"""A scheduled sweep and a Config event for the same instance at once: the tags never flap (issue 18 item 4).

The two invocations are interleaved on the emulator at the worst point: the sweep has read the fleet and
decided, and the Config event's invocation for the same instance runs to completion right before the sweep's
write (a botocore ``before-call`` hook on the sweep's session starts it). Every write to that instance is
recorded from the request parameters: each sets the contract's values, none deletes, none sets another value;
afterwards both paths, run again, make zero writes (a second run equals the first).
"""

from __future__ import annotations

from typing import Any

import pytest
import tag_contract

from tests import aws
from tests.lambda_src.test_tag_remediation import config_event

PG, MW = tag_contract.PATCH_GROUP_TAG, tag_contract.MAINTENANCE_WINDOW_TAG
ACCOUNT, REGION = aws.ACCOUNTS[0], aws.REGIONS[0]


class Writes:
    """Every tag write (``before-parameter-build``: the caller's parameters, once per call) by instance."""

    def __init__(self) -> None:
        self.by_instance: dict[str, list[tuple[str, dict[str, str]]]] = {}

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name in ("CreateTags", "DeleteTags"):
            tags = {t["Key"]: t.get("Value", "") for t in params.get("Tags", [])}
            for resource in params.get("Resources", []):
                self.by_instance.setdefault(resource, []).append((model.name, tags))


@pytest.mark.parametrize("first", ["event", "sweep"])
def test_a_sweep_and_an_event_for_the_same_instance_do_not_flap(moto_aws: None, first: str) -> None:
    session = aws.session(ACCOUNT, REGION)
    aws.create_window(session, "Dev_maintenance_window")
    target, *others = aws.run_instances(session, {"environment": "dev"}, count=3)
    writes = Writes()
    interleaved: list[dict[str, Any]] = []

    def event_first(model: Any, **_: Any) -> None:
        """Right before the sweep's CreateTags: the Config event's invocation runs to completion."""
        if model.name == "CreateTags" and not interleaved:
            with aws.as_account(ACCOUNT, REGION) as inner:
                inner.events.register("before-parameter-build", writes)
                interleaved.append(_handler_result(config_event("AWS::EC2::Instance", target, ACCOUNT, REGION)))

    with aws.as_account(ACCOUNT, REGION) as default:
        default.events.register("before-parameter-build", writes)
        if first == "event":
            default.events.register("before-call.ec2.CreateTags", event_first)
            result = _handler_result(_scheduled())
        else:  # the sweep writes first, then the event arrives for the instance it just tagged
            result = _handler_result(_scheduled())
    if first == "sweep":
        with aws.as_account(ACCOUNT, REGION) as default:
            default.events.register("before-parameter-build", writes)
            interleaved.append(_handler_result(config_event("AWS::EC2::Instance", target, ACCOUNT, REGION)))

    right = {PG: "Dev", MW: "Dev_maintenance_window"}
    assert aws.instances_tags(session, [target, *others]) == {
        i: {"environment": "dev", **right} for i in [target, *others]
    }
    assert not result["errors"] and not interleaved[0]["errors"]
    # no flap: every write to the instance sets the contract's values; nothing deletes or sets another value
    for operation, tags in writes.by_instance[target]:
        assert operation == "CreateTags" and tags == right
    # the event's run already wrote them (the sweep's batch still names it: the same values, not a change)
    assert interleaved[0]["tagged"] == ({target: right} if first == "event" else {})
    # a second run of each path equals the first: zero writes
    after = Writes()
    for event in (_scheduled(), config_event("AWS::EC2::Instance", target, ACCOUNT, REGION)):
        with aws.as_account(ACCOUNT, REGION) as default:
            default.events.register("before-parameter-build", after)
            again = _handler_result(event)
        assert again["tagged"] == {} and again["untagged"] == {} and not again["errors"]
    assert after.by_instance == {}


def _scheduled() -> dict[str, Any]:
    from tests.lambda_src.test_tag_remediation import SCHEDULED

    return {**SCHEDULED, "account": ACCOUNT, "region": REGION}


def _handler_result(event: dict[str, Any]) -> dict[str, Any]:
    from devkit.moto_extensions.awslambda.models import lambda_context
    from tests.lambda_src.test_tag_remediation import FUNCTION, app

    return dict(app.handler(event, lambda_context(FUNCTION, ACCOUNT, REGION)))
