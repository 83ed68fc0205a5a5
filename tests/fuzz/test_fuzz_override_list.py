"""Fuzz the override-list Lambda: arbitrary events and arbitrary exclusion-list objects, on the emulator.

Invariants: only the documented ``BadRequest`` escapes (the calling runbook step must fail), its message is one
line, and a rejected request writes no override list.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests import aws
from tests.fuzz import invariants, strategies
from tests.fuzz.emulator import (
    ACCOUNT,
    REGION,
    Emulator,
    WriteCounter,
    lambda_module,
    running_as,
    seed_missing_patches,
)
from tests.fuzz.emulator import context as fuzz_context

TARGET = "lambda override_list"
app = lambda_module("override_list")
BUCKET = "org-patching-patch-lists-fuzz"
EXCLUSIONS = f"s3://{BUCKET}/exclusions/team.json"
PATCHES = [
    {
        "KBId": "KB5034441",
        "Title": "2024-01 Security Update (KB5034441)",
        "Classification": "Security",
        "Severity": "Critical",
    },
    {"KBId": "kernel.x86_64", "Title": "kernel.x86_64:0:6.1.72", "Classification": "Security", "Severity": "Important"},
    {
        "KBId": "openssl.x86_64",
        "Title": 'openssl "quoted" : colon',
        "Classification": "Security",
        "Severity": "Critical",
    },
]


@dataclass
class World:
    emulator: Emulator
    counter: WriteCounter
    instance: str


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    mp = pytest.MonkeyPatch()
    with Emulator() as emulator:
        mp.setenv("PATCH_LISTS_BUCKET", BUCKET)
        session = emulator.session(ACCOUNT, REGION)
        session.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        profile = aws.create_instance_profile(session)  # SSM manages only instances with the patching profile
        [instance] = aws.run_instances(session, {"environment": "Prod"}, profile=profile)
        seed_missing_patches(ACCOUNT, REGION, instance, PATCHES)
        yield World(emulator, WriteCounter(), instance)
    mp.undo()


exclusion_bodies = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    strategies.json_values.map(lambda v: json.dumps(v).encode()),
    st.lists(
        st.one_of(
            st.text(max_size=20),
            st.fixed_dictionaries({"id": st.text(max_size=10)}, optional={"reason": strategies.json_scalars}),
            st.fixed_dictionaries({"title": strategies.json_scalars}),
        ),
        max_size=5,
    ).map(lambda v: json.dumps({"exclude": v}).encode()),
)
uris = st.one_of(
    st.just(EXCLUSIONS),
    st.sampled_from((f"s3://{BUCKET}/missing.json", "s3://no-such-bucket/x", "https://example.com/x", "")),
    strategies.mutated(st.just(EXCLUSIONS)),
)
EXISTING = "<the emulator's instance>"
instance_ids = st.one_of(
    st.just(EXISTING),
    strategies.mutated(st.sampled_from(("i-0123456789abcdef0", "mi-0123456789abcdef0"))),
)
events = st.one_of(
    strategies.with_extra(
        strategies.maybe_missing(
            {
                "InstanceId": instance_ids,
                "InstanceIds": st.one_of(st.lists(instance_ids, max_size=3), strategies.json_values),
                "ExclusionListUri": uris,
            }
        )
    ),
    strategies.json_values,
)


def _resolve(value: Any, instance: str) -> Any:
    if value == EXISTING:
        return instance
    if isinstance(value, list):
        return [_resolve(v, instance) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, instance) for k, v in value.items()}
    return value


@invariants.fuzz_settings(quick_examples=25)
@given(event=events, body=exclusion_bodies)
@example(event={"InstanceId": EXISTING, "ExclusionListUri": EXCLUSIONS}, body=b"\xff\xfe not utf-8")
@example(event={"InstanceId": EXISTING, "ExclusionListUri": EXCLUSIONS}, body=b"[" * 5000)
@example(event={"InstanceId": "i-0123456789abcdef0\n"}, body=b"")
@example(event={"InstanceId": EXISTING, "ExclusionListUri": EXCLUSIONS + "\n"}, body=b"[]")
def test_override_list_handler(world: World, event: Any, body: bytes) -> None:
    case = invariants.case(TARGET)
    event = _resolve(event, world.instance)
    with running_as(world.emulator, world.counter) as session:
        session.client("s3").put_object(Bucket=BUCKET, Key="exclusions/team.json", Body=body)
        world.counter.reset()
        try:
            result = app.handler(event, fuzz_context("org-patching-override_list"))
        except app.BadRequest as error:
            case.check(invariants.NO_ESCAPE, True)
            case.check(invariants.ONE_LINE, invariants.one_line(str(error)), str(error))
            case.check(invariants.ZERO_WRITES, world.counter.total == 0, dict(world.counter.writes))
            return
        except Exception as error:
            case.check(invariants.NO_ESCAPE, False, f"{type(error).__name__}: {error}")
            raise
    case.check(invariants.NO_ESCAPE, str(result.get("InstallOverrideList", "")).startswith(f"s3://{BUCKET}/"))
