"""The render-ratio work (docs/child-stack.md#render-ratio) made fixed per-run work cheaper; each cheaper path
must give exactly what the one it replaced gave, since its results end up in resource inputs (runbook
content, ARNs). ``python -m bench.render_digest`` compares whole renders before and after; these tests pin
each replaced path against the original it stands for. The last test pins the baseline's stack-trace parity
with a flat program (bench/baseline.py)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pulumi
import pulumi.runtime.resource as sdk_resource
import pulumi_aws as aws
import pytest

from bench.baseline import replay_bare
from components import packaging
from components.config import load_stack_file
from components.partitions import SSM_ENDPOINT_PREFIX, ssm_regions
from components.runbooks import declared_parameters, render_runbook, runbook_names, runbook_sources
from components.ssm_model import service_model
from patchctl.offline.render import render
from patchctl.stack_render import stack_mocks

RUNBOOK_DIR = Path(packaging.__file__).parent / "runbooks"
SCRIPTS = [*sorted(RUNBOOK_DIR.glob("*.py")), packaging.CONTRACT_FILE]


def test_ssm_regions_are_what_a_botocore_session_reports() -> None:
    """partition_of and the config's region check read the endpoint file once, without the SSM model; a
    session's get_available_regions("ssm") (what both asked before, one session per region) agrees."""
    session = botocore.session.get_session()
    expected = {
        partition: frozenset(session.get_available_regions("ssm", partition_name=partition))
        for partition in session.get_available_partitions()
    }
    assert list(ssm_regions().items()) == list(expected.items())
    assert service_model().metadata["endpointPrefix"] == SSM_ENDPOINT_PREFIX
    # the model built from the program's one loader is a session's
    assert service_model()._service_description == session.get_service_model("ssm")._service_description


def _walk_strip(tree: ast.AST) -> None:
    """The original docstring stripping: every node of the tree, expressions too."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                node.body = node.body[1:] or [ast.Pass()]


def _top_functions(tree: ast.Module) -> Iterator[str]:
    return (node.name for node in tree.body if isinstance(node, ast.FunctionDef))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_runbook_scripts_strip_and_unparse_as_before(script: Path) -> None:
    """Statement-only docstring stripping and per-statement unparsing give the same trees and text as
    ``ast.walk`` and ``ast.unparse`` of the assembled module, for the whole script and every handler's
    minimal set of definitions."""
    source = script.read_text()
    reference = ast.parse(source)
    _walk_strip(reference)
    tree = packaging._parsed(source)
    assert ast.dump(tree) == ast.dump(reference)
    assert packaging.unparse_body(tree.body) == ast.unparse(reference)
    for name in _top_functions(tree):
        kept = packaging._reached(tree, {name})
        assert packaging.unparse_body(kept) == ast.unparse(ast.Module(body=kept, type_ignores=[]))


def test_the_child_reads_the_parameters_the_rendered_runbooks_declare() -> None:
    """The child stack reads declared parameters from the runbooks' sources (scripts not inlined)."""
    sources = runbook_sources()
    assert set(sources) == set(runbook_names())
    for name, source in sources.items():
        assert declared_parameters(source) == declared_parameters(render_runbook(name))
        assert declared_parameters(source)


def test_unparse_body_handles_a_leading_docstring_and_nested_definitions() -> None:
    source = (
        '"""doc"""\nimport os\n@dec\nclass A:\n    x = 1\n\n    def f(self):\n        pass\n'
        "if x:\n    def g():\n        pass\ny = 2\n"
    )
    body = ast.parse(source).body
    assert packaging.unparse_body(body) == ast.unparse(ast.parse(source))
    assert packaging.unparse_body(body[1:]) == ast.unparse(ast.Module(body=body[1:], type_ignores=[]))
    assert packaging.unparse_body([]) == ""


def _frames_per_registration(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Spy on the SDK's stack capture: the files of each registration's recorded frames."""
    recorded: list[list[str]] = []
    original = sdk_resource._get_stack_trace

    def spy() -> Any:
        trace = original()
        recorded.append([frame.pc.uri for frame in trace.frames])
        return trace

    monkeypatch.setattr(sdk_resource, "_get_stack_trace", spy)
    return recorded


class _Part(pulumi.ComponentResource):
    def __init__(self, name: str) -> None:
        super().__init__("test:index:Part", name)


def _mocks() -> Any:
    return stack_mocks(load_stack_file(Path(__file__).resolve().parents[2] / "Pulumi.central.yaml"))


def test_the_bare_replay_pays_the_stack_capture_of_a_flat_program(monkeypatch: pytest.MonkeyPatch) -> None:
    """A flat program (a component and typed resources created in its build function) and the replay of
    its capture send, for each of those, the stack from their build function down: one frame deeper than
    the stack resource's own. The replay pays the SDK's per-resource source-position work as any program
    does, and no more (bench/baseline.py; the program pays for the frames its nesting adds)."""
    recorded = _frames_per_registration(monkeypatch)

    def build() -> None:
        provider = aws.Provider("p", region="us-east-1")
        opts = pulumi.ResourceOptions(provider=provider)
        _Part("part")
        aws.sqs.Queue("q", opts=opts)
        aws.sns.Topic("t", opts=opts)

    capture = render(build, mocks=_mocks(), project="p", stack="s")
    stack, _provider, *flat = recorded
    assert len(flat) == 3
    assert all(frames[0].endswith(Path(__file__).name) and len(frames) == len(stack) + 1 for frames in flat)
    recorded.clear()
    replay_bare(capture, _mocks)
    stack, *replayed = recorded
    assert len(replayed) == 4
    assert all(frames[0].endswith("bench/baseline.py") and len(frames) == len(stack) + 1 for frames in replayed)
