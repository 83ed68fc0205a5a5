"""The sweep pages across invocations when its time runs out, and a resume event can only say where to start.

The function is created in the emulator from its real deployment package and started like EventBridge starts
it (an asynchronous ``Invoke`` of the scheduled event); its resumptions are its own asynchronous ``Invoke``
calls, which the emulator's Lambda runs after the invocation that sent them (``devkit.moto_extensions.awslambda``).
The context's clock runs out after a set number of pages; the page size is the one constant shrunk, so a fleet
of 23 instances spans 5 pages. Writes are counted with a botocore hook on the handler's own session.
"""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import tag_contract
from lambda_shared import sweep_pages

from components import packaging
from components.spoke.tag_compliance import sweep_event
from devkit.moto_extensions.awslambda.models import invocations, lambda_context, use_clock
from tests import aws
from tests.lambda_src.test_tag_remediation import FUNCTION, app

ACCOUNT, REGION = aws.ACCOUNTS[0], aws.REGIONS[0]
PG = tag_contract.PATCH_GROUP_TAG


class TagWrites:
    """Instance ids of every CreateTags/DeleteTags call, from the caller's parameters (once per call)."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.calls = 0

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name in ("CreateTags", "DeleteTags"):
            self.calls += 1
            self.ids.extend(params.get("Resources", []))


@pytest.fixture
def handler_writes(monkeypatch: pytest.MonkeyPatch) -> TagWrites:
    """Count the writes of every default session a handler builds (the emulator's Lambda gives each run one)."""
    writes = TagWrites()
    setup = boto3.setup_default_session

    def with_hook(**kwargs: Any) -> None:
        setup(**kwargs)
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register("before-parameter-build", writes)

    monkeypatch.setattr(boto3, "setup_default_session", with_hook)
    return writes


def pages_per_invocation(pages: int) -> Callable[[Any], Callable[[], int]]:
    """A Lambda clock under which each invocation has time for ``pages`` pages, then less than the margin."""

    def clock(_function: Any) -> Callable[[], int]:
        asked = [0]

        def remaining() -> int:
            asked[0] += 1
            return 900_000 if asked[0] < pages else sweep_pages.MARGIN_MS - 1

        return remaining

    return clock


def create_function(session: boto3.session.Session) -> str:
    """The tag-remediation function from its deployment package (``components/packaging.py``)."""
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        for name, path in packaging.archive_files("tag_remediation").items():
            archive.write(path, name)
    role = session.client("iam").create_role(RoleName="tag-remediation", AssumeRolePolicyDocument="{}")["Role"]
    return str(
        session.client("lambda").create_function(
            FunctionName=FUNCTION,
            Runtime="python3.12",
            Role=role["Arn"],
            Handler="app.handler",
            Code={"ZipFile": code.getvalue()},
            Timeout=900,
            MemorySize=512,
            Environment={"Variables": {"POWERTOOLS_METRICS_DISABLED": "true", "PROFILE_CHECK": "false"}},
        )["FunctionArn"]
    )


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(sweep_pages, "PAGE_SIZE", 5)  # DescribeInstances' minimum MaxResults
    yield


def test_a_sweep_short_of_time_finishes_over_several_invocations_tagging_each_instance_once(
    moto_aws: None, small_pages: None, handler_writes: TagWrites
) -> None:
    session = aws.session(ACCOUNT, REGION)
    needing = aws.run_instances(session, {"environment": "Prod"}, count=18)
    exempt = aws.run_instances(session, {"environment": "Prod", "install_patch": "no"}, count=5)
    arn = create_function(session)
    with use_clock(pages_per_invocation(2)):
        reply = session.client("lambda").invoke(
            FunctionName=arn, InvocationType="Event", Payload=json.dumps(sweep_event(ACCOUNT, REGION)).encode()
        )
    assert reply["StatusCode"] == 202 and reply["Payload"].read() == b""
    runs = [i for i in invocations(ACCOUNT, REGION) if i.function_arn == arn]
    assert [(r.result["paging"]["invocation"], r.result["paging"]["pages"]) for r in runs] == [(1, 2), (2, 2), (3, 1)]
    # Each invocation starts where the one before stopped, and the last one ends the chain.
    assert runs[0].result["paging"]["startedAt"] is None
    for before, after in itertools.pairwise(runs):
        assert after.event["detail"]["nextToken"] == before.result["paging"]["resumeFrom"] is not None
        assert after.result["paging"]["startedAt"] == before.result["paging"]["resumeFrom"]
    assert runs[-1].result["paging"]["resumeFrom"] is None
    assert all(not r.errored and r.result["errors"] == [] for r in runs)
    # Every instance that needs tags was written exactly once, and only those.
    assert sorted(handler_writes.ids) == sorted(needing)
    tagged = {k for r in runs for k in r.result["tagged"]}
    assert tagged == set(needing)
    now = aws.instances_tags(session, needing + exempt)
    assert all(now[i][PG] == "Prod" for i in needing) and all(PG not in now[i] for i in exempt)
    # A new sweep over the same fleet converges: it writes nothing.
    with aws.as_account(ACCOUNT, REGION):
        again = app.handler(sweep_event(ACCOUNT, REGION), lambda_context(FUNCTION, ACCOUNT, REGION))
    assert again["tagged"] == {} and again["paging"]["pages"] == 5
    assert sorted(handler_writes.ids) == sorted(needing)


def resume(detail: Any, **envelope: Any) -> dict[str, Any]:
    token = sweep_pages.Resume("eyJyIjowLCJpIjo0fQ==", 2)
    event = sweep_pages.resume_event(ACCOUNT, REGION, token)
    return {**event, "detail": detail if detail is not None else event["detail"], **envelope}


GOOD = {"nextToken": "eyJyIjowLCJpIjo0fQ==", "invocation": 2}
BAD_RESUMES = [
    ("forged source", resume(None, source="aws.events"), "does not send"),
    ("region", resume(None, region="us-east-1\n"), "is not a region name"),
    ("detail not an object", resume(["x"]), "expected an object"),
    ("extra key widens nothing", resume({**GOOD, "filters": [{"Name": "tag:x"}]}), "unexpected keys"),
    ("token alphabet", resume({**GOOD, "nextToken": "a b;c"}), "is not an EC2 page token"),
    ("token empty", resume({**GOOD, "nextToken": ""}), "is not an EC2 page token"),
    ("token too long", resume({**GOOD, "nextToken": "A" * 4097}), "is not an EC2 page token"),
    ("invocation 1", resume({**GOOD, "invocation": 1}), "is not an invocation number"),
    ("invocation past the cap", resume({**GOOD, "invocation": 16}), "is not an invocation number"),
    ("invocation a bool", resume({**GOOD, "invocation": True}), "is not an invocation number"),
    ("invocation a string", resume({**GOOD, "invocation": "2"}), "is not an invocation number"),
]


@pytest.mark.parametrize(("case", "event", "message"), BAD_RESUMES, ids=[b[0] for b in BAD_RESUMES])
def test_bad_resume_events_are_refused_in_one_line_before_any_call(
    moto_aws: None, case: str, event: dict[str, Any], message: str
) -> None:
    aws.run_instances(aws.session(ACCOUNT, REGION), {"environment": "Prod"})
    counter = aws.CallCounter()
    with aws.as_account(ACCOUNT, REGION) as default:
        counter.attach(default.events)
        result = app.handler(event, lambda_context(FUNCTION, ACCOUNT, REGION))
    assert counter.total == 0, counter.calls
    reason = result["skipped"]["event"]
    assert message in reason and "\n" not in reason, reason
    assert result["tagged"] == {} and result["errors"] == []


def test_a_token_ec2_never_issued_is_one_error_and_zero_writes(moto_aws: None) -> None:
    aws.run_instances(aws.session(ACCOUNT, REGION), {"environment": "Prod"}, count=6)
    forged = sweep_pages.Resume("eyJyIjo5OTksImkiOjB9", 2)  # a well-formed token for a page that never existed
    counter = aws.CallCounter()
    with aws.as_account(ACCOUNT, REGION) as default:
        counter.attach(default.events)
        result = app.handler(
            sweep_pages.resume_event(ACCOUNT, REGION, forged), lambda_context(FUNCTION, ACCOUNT, REGION)
        )
    assert counter.writes() == 0 and counter.calls.get("DescribeInstances") == 1
    [error] = result["errors"]
    assert error["code"] == "InvalidNextToken" and result["paging"]["resumeFrom"] is None


def test_the_chain_stops_at_its_cap_and_says_where(moto_aws: None, small_pages: None) -> None:
    aws.run_instances(aws.session(ACCOUNT, REGION), {"environment": "Prod"}, count=12)
    context = lambda_context(FUNCTION, ACCOUNT, REGION)
    short = type(context)(**{**context.__dict__, "remaining": lambda: sweep_pages.MARGIN_MS - 1})
    with aws.as_account(ACCOUNT, REGION):
        first = app.handler(sweep_event(ACCOUNT, REGION), short)
        last = sweep_pages.Resume(first["paging"]["resumeFrom"], sweep_pages.MAX_INVOCATIONS)
        result = app.handler(sweep_pages.resume_event(ACCOUNT, REGION, last), short)
    # The first invocation could not start its next one (no such function here): reported, not raised.
    assert first["paging"]["pages"] == 1 and first["errors"][0]["action"] == "lambda:InvokeFunction"
    assert result["paging"]["pages"] == 1 and result["paging"]["resumeFrom"]
    [error] = result["errors"]
    assert error["code"] == "SweepChainTooLong" and result["paging"]["resumeFrom"] in error["message"]
