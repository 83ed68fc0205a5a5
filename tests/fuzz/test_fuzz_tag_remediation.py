"""Fuzz the tag-remediation Lambda with arbitrary Config, EventBridge and scheduled events on the emulator.

Invariants: the handler never raises (a malformed event is answered with ``skipped["event"]``, an AWS error is
reported in ``errors``), and an event it skips (malformed, NOT_APPLICABLE, another account's) makes no write.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests import aws
from tests.fuzz import invariants, mutations, strategies
from tests.fuzz.emulator import ACCOUNT, REGION, Emulator, WriteCounter, lambda_module, running_as

TARGET = "lambda tag_remediation (Config/EventBridge/scheduled events)"
app = lambda_module("tag_remediation")


@dataclass
class World:
    emulator: Emulator
    counter: WriteCounter
    instances: list[str]


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with Emulator() as emulator:
        session = emulator.session(ACCOUNT, REGION)
        aws.create_window(session, "Prod_maintenance_window")
        ids = aws.run_instances(session, {"environment": "Prod"}, count=2)
        ids += aws.run_instances(session, {"environment": " dev "})
        ids += aws.run_instances(session, {"install_patch": "no"})
        aws.create_asg(session, "web-asg", {"environment": "Test"}, desired=0)
        yield World(emulator, WriteCounter(), ids)


@dataclass(frozen=True)
class Context:
    """The attributes of the runtime's context that the handler and Powertools read."""

    invoked_function_arn: str
    aws_request_id: str = "fuzz"
    function_name: str = "org-patching-tag-remediation"
    memory_limit_in_mb: int = 128
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/org-patching-tag-remediation"
    log_stream_name: str = ""

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


instance_ids = st.one_of(
    st.sampled_from(("i-0123456789abcdef0", "i-00000000", "asg-member")), strategies.mutated(st.just("i-1"))
)
asg_ids = st.sampled_from(
    (
        "web-asg",
        "missing-asg",
        "arn:aws:autoscaling:eu-west-1:111111111111:autoScalingGroup:uuid:autoScalingGroupName/web-asg",
        "arn:aws:autoscaling:eu-west-1:111111111111:autoScalingGroup:uuid",
    )
)
config_detail = strategies.with_extra(
    strategies.maybe_missing(
        {
            "resourceType": st.one_of(
                st.sampled_from(("AWS::EC2::Instance", "AWS::AutoScaling::AutoScalingGroup", "AWS::S3::Bucket")),
                strategies.json_scalars,
            ),
            "resourceId": st.one_of(instance_ids, asg_ids, strategies.json_values),
            "awsRegion": strategies.regions,
            "awsAccountId": strategies.account_ids,
            "newEvaluationResult": st.one_of(
                st.fixed_dictionaries(
                    {"complianceType": st.sampled_from(("NON_COMPLIANT", "COMPLIANT", "NOT_APPLICABLE"))}
                ),
                strategies.json_values,
            ),
        }
    )
)
events = st.one_of(
    strategies.with_extra(
        strategies.maybe_missing(
            {
                "detail-type": st.one_of(
                    st.sampled_from(("Config Rules Compliance Change", "Scheduled Event", "EC2 State Change")),
                    strategies.json_scalars,
                ),
                "source": st.sampled_from(("aws.config", "aws.events")),
                "account": strategies.account_ids,
                "region": st.one_of(st.just(REGION), strategies.regions),
                "detail": st.one_of(config_detail, strategies.json_values),
            }
        )
    ),
    strategies.json_values,
)
INSTANCE = "<one of the emulator's instances>"
#: Valid events as EventBridge delivers them: mutated, they reach the reading and writing path.
VALID: list[dict[str, Any]] = [
    {"version": "0", "detail-type": "Scheduled Event", "source": "aws.events", "account": ACCOUNT, "region": REGION},
    *(
        {
            "version": "0",
            "detail-type": "Config Rules Compliance Change",
            "source": "aws.config",
            "account": ACCOUNT,
            "region": REGION,
            "detail": {
                "resourceId": resource_id,
                "awsRegion": REGION,
                "awsAccountId": ACCOUNT,
                "resourceType": resource_type,
                "newEvaluationResult": {"complianceType": "NON_COMPLIANT"},
            },
        }
        for resource_type, resource_id in (
            ("AWS::EC2::Instance", INSTANCE),
            ("AWS::AutoScaling::AutoScalingGroup", "web-asg"),
        )
    ),
    # A sweep's resume as the function sends it to itself (lambda_shared/sweep_pages.py); mutated, a forged one.
    {
        "version": "0",
        "detail-type": "org-patching Sweep Resume",
        "source": "org-patching.tag-remediation",
        "account": ACCOUNT,
        "region": REGION,
        "detail": {"nextToken": "eyJyIjowLCJpIjowfQ==", "invocation": 2},
    },
]
events = st.one_of(st.sampled_from(VALID).flatmap(mutations.mutate), events)
# The Lambda runtime always passes a context (Powertools' decorators read it); what varies is the
# function ARN the handler takes its account from.
contexts = st.builds(Context, st.sampled_from((f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f", "not-an-arn", "")))
DEFAULT_CONTEXT = Context(f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f")


def _skipped_whole_event(result: dict[str, Any]) -> bool:
    """The handler did nothing by design: a malformed event, or one it must ignore (NOT_APPLICABLE, foreign)."""
    skipped = result["skipped"]
    return not result["tagged"] and len(skipped) == 1 and not result["errors"] and result.get("unchanged") == 0


@invariants.fuzz_settings(quick_examples=25)
@given(event=events, context=contexts)
@example(event={"detail-type": "Scheduled Event", "region": "eu-west-1\n"}, context=DEFAULT_CONTEXT)
@example(event=["not", "an", "object"], context=DEFAULT_CONTEXT)
@example(event={**VALID[1], "detail": {**VALID[1]["detail"], "resourceId": "\x1b"}}, context=DEFAULT_CONTEXT)
def test_tag_remediation_handler(world: World, event: Any, context: Any) -> None:
    case = invariants.case(TARGET)
    if (
        isinstance(event, dict)
        and isinstance(event.get("detail"), dict)
        and event["detail"].get("resourceId") == INSTANCE
    ):
        event = {**event, "detail": {**event["detail"], "resourceId": world.instances[0]}}
    world.counter.reset()
    region = event.get("region") if isinstance(event, dict) else None
    region = region if region in strategies.REGIONS else REGION
    with running_as(world.emulator, world.counter, ACCOUNT, region):
        try:
            result = app.handler(event, context)
        except Exception as error:  # the invariant: nothing escapes
            case.check(invariants.NO_ESCAPE, False, f"{type(error).__name__}: {error}")
            raise
    case.check(invariants.NO_ESCAPE, isinstance(result, dict) and {"tagged", "skipped", "errors"} <= set(result))
    if _skipped_whole_event(result):
        case.check(invariants.ZERO_WRITES, world.counter.total == 0, dict(world.counter.writes))
