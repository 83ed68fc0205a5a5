"""What the render-cost work relies on: the bench's baseline registers the same resources as the program,
and the cheaper policy serialization gives the same text and dependencies as ``Output.json_dumps``."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
from google.protobuf import json_format

from bench.baseline import replay_bare
from components.policy_documents import allow, document, to_json
from patchctl.offline.monitor import STACK_TYPE
from patchctl.offline.render import Capture, render
from patchctl.stack_render import stack_mocks


def _registered(capture: Capture) -> list[tuple[str, str, str, dict[str, Any]]]:
    """Sorted: the monitor records a registration when it completes, in no fixed order."""
    return sorted(
        (r.type, r.name, r.provider_urn.rsplit("::", 1)[-1], json_format.MessageToDict(r.inputs_struct))
        for r in capture.resources
        if r.type != STACK_TYPE
    )


def test_the_bare_replay_registers_the_same_resources_with_the_same_inputs(
    central_config: Any, central_capture: Capture, child_config: Any
) -> None:
    """bench/baseline.py's promise: same types, names, providers and wire inputs, only the structure goes."""
    for cfg, capture, hub in (
        (central_config, central_capture, None),
        (child_config, None, central_capture.outputs),
    ):
        if capture is None:
            from patchctl.stack_render import render_stack

            capture = render_stack(cfg, hub)
        replay = replay_bare(capture, lambda cfg=cfg, hub=hub: stack_mocks(cfg, hub))
        assert _registered(replay) == _registered(capture)
        stack = replay.stack_resource.urn
        assert all(not r.dependencies and r.parent == stack for r in replay.resources if r.urn != stack)


def test_to_json_gives_the_text_and_dependencies_of_json_dumps() -> None:
    def build() -> None:
        provider = aws.Provider("p", region="us-east-1")
        opts = pulumi.ResourceOptions(provider=provider)
        source = aws.sqs.Queue("source", opts=opts)
        secret = pulumi.Output.secret("s3cr3t")
        doc = document(
            allow(["sqs:SendMessage"], [source.arn, pulumi.Output.concat(source.arn, "/*")], sid="Send"),
            allow(["kms:Decrypt"], "*", conditions={"StringEquals": {"aws:ResourceTag/k": secret, "n": ("a", 1)}}),
        )
        plain = document(allow(["s3:GetObject"], ["arn:aws:s3:::b/*"]))
        for name, value in (
            ("ours", to_json(doc)),
            ("sdk", pulumi.Output.json_dumps(doc)),
            ("ours-plain", to_json(plain)),
            ("sdk-plain", pulumi.Output.json_dumps(plain)),
        ):
            aws.ssm.Parameter(name, type="String", value=value, opts=opts)

    capture = render(build)
    by_name = {r.name: r for r in capture.resources}
    for ours, sdk in (("ours", "sdk"), ("ours-plain", "sdk-plain")):
        assert by_name[ours].inputs_struct == by_name[sdk].inputs_struct
        assert by_name[ours].property_dependencies == by_name[sdk].property_dependencies
        assert by_name[ours].dependencies == by_name[sdk].dependencies
    assert by_name["ours"].property_dependencies["value"]  # the queue's ARN: a real dependency was compared
