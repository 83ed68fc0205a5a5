"""The rendered runbooks are valid SSM Automation documents (schema 0.3) wired to real scripts and parameters."""

from __future__ import annotations

import ast
import inspect
import re
import sys
from typing import Any

import pytest
import tag_contract
import yaml

from components import naming
from components.packaging import PackagingError, minimal_source
from components.runbooks import (
    MAX_DOCUMENT_BYTES,
    RunbookError,
    asg_rebake,
    baseline_choice,
    change_gate,
    declared_parameters,
    patch_instances,
    render_runbook,
    runbook_names,
)
from devkit.runbook_interpreter import REFERENCE
from tests import aws

BUILTINS = {"automation:EXECUTION_ID", "global:ACCOUNT_ID", "global:REGION", "global:DATE_TIME", "global:AWS_PARTITION"}
#: aws:executeScript runtimes SSM still runs (3.6-3.8 were retired in 2025; AWS recommends 3.11).
SUPPORTED_RUNTIMES = {"python3.11", "python3.12"}


@pytest.fixture(scope="module", params=runbook_names())
def rendered(request: pytest.FixtureRequest) -> tuple[str, str, dict[str, Any]]:
    content = render_runbook(request.param)
    return request.param, content, yaml.safe_load(content)


def test_documents_parse_and_fit(rendered: tuple[str, str, dict[str, Any]]) -> None:
    name, content, document = rendered
    assert document["schemaVersion"] == "0.3"
    assert document["assumeRole"] == "{{ AutomationAssumeRole }}"
    assert len(content.encode()) < MAX_DOCUMENT_BYTES - 4096, f"{name} is {len(content.encode())} bytes"
    assert "<<" not in yaml.safe_dump({k: v for k, v in document.items() if k != "mainSteps"})
    assert document["description"]


def test_every_action_is_real_and_every_step_link_resolves(rendered: tuple[str, str, dict[str, Any]]) -> None:
    _, _, document = rendered
    names = [step["name"] for step in document["mainSteps"]]
    assert len(names) == len(set(names))
    for step in document["mainSteps"]:
        assert step["action"] in aws.AUTOMATION_ACTIONS, step["action"]
        targets = [step.get("nextStep")]
        on_failure = step.get("onFailure", "Abort")
        assert on_failure in ("Abort", "Continue") or on_failure.startswith("step:")
        targets.append(on_failure.removeprefix("step:") if on_failure.startswith("step:") else None)
        if step["action"] == "aws:branch":
            targets += [c["NextStep"] for c in step["inputs"]["Choices"]] + [step["inputs"].get("Default")]
        for target in filter(None, targets):
            assert target in names, f"{step['name']} -> {target}"
    # the last step of the list must end the execution
    assert document["mainSteps"][-1].get("isEnd") is True


def test_every_reference_resolves(rendered: tuple[str, str, dict[str, Any]]) -> None:
    _, _, document = rendered
    parameters = set(document["parameters"])
    outputs: dict[str, set[str]] = {}
    for step in document["mainSteps"]:
        declared = {o["Name"] for o in step.get("outputs", [])}
        outputs[step["name"]] = declared | aws.IMPLICIT_OUTPUTS.get(step["action"], set())
    seen: list[str] = []
    text_without_scripts = (
        {k: v for k, v in document.items() if k != "mainSteps"},
        [
            {**s, "inputs": {k: v for k, v in s.get("inputs", {}).items() if k != "Script"}}
            for s in document["mainSteps"]
        ],
    )
    references = set(REFERENCE.findall(yaml.safe_dump(text_without_scripts)))
    assert references, "no references at all?"
    for reference in references:
        if reference in parameters or reference in BUILTINS:
            continue
        step_name, _, output = reference.partition(".")
        assert output in outputs.get(step_name, set()), f"unresolved {{{{ {reference} }}}}"
    # a step only reads outputs of steps listed before it
    for step in document["mainSteps"]:
        inputs = {k: v for k, v in step.get("inputs", {}).items() if k != "Script"}
        for reference in REFERENCE.findall(yaml.safe_dump(inputs)):
            step_name = reference.partition(".")[0]
            if step_name in outputs:
                assert step_name in seen, f"{step['name']} reads {reference} before it runs"
        seen.append(step["name"])
    for output in document.get("outputs", []):
        step_name, _, name = output.partition(".")
        assert name in outputs[step_name]


def test_parameter_defaults_satisfy_their_own_constraints(rendered: tuple[str, str, dict[str, Any]]) -> None:
    _, _, document = rendered
    for name, spec in document["parameters"].items():
        assert spec["type"] in ("String", "StringList", "Integer", "Boolean", "MapList", "StringMap"), name
        assert spec.get("description"), name
        default = spec.get("default")
        if "allowedPattern" in spec and default is not None:
            assert re.match(spec["allowedPattern"], str(default)), (name, default)
        if "allowedValues" in spec and default is not None:
            assert default in spec["allowedValues"], (name, default)


def test_scripts_are_inlined_compile_and_name_real_handlers(rendered: tuple[str, str, dict[str, Any]]) -> None:
    _, _, document = rendered
    for step in document["mainSteps"]:
        if step["action"] != "aws:executeScript":
            continue
        inputs = step["inputs"]
        assert inputs["Runtime"] in SUPPORTED_RUNTIMES
        if inputs["Handler"] == "choose_baseline_override":
            module = baseline_choice
        elif inputs["Handler"] in ("check_gates", "check_freeze"):
            module = change_gate
        else:
            module = patch_instances if inputs["Handler"] == "choose_route" else asg_rebake
        handler = getattr(module, inputs["Handler"])
        assert list(inspect.signature(handler).parameters) == ["events", "context"]
        code = compile(inputs["Script"], step["name"], "exec")
        namespace: dict[str, Any] = {}
        exec(code, namespace)  # imports only the stdlib, boto3 and botocore, as SSM's runtime offers
        assert callable(namespace[inputs["Handler"]])


def test_inlined_scripts_are_self_contained(rendered: tuple[str, str, dict[str, Any]]) -> None:
    """What SSM's script runtime offers is all a script imports; it never rewrites the module table or execs."""
    _, _, document = rendered
    for step in document["mainSteps"]:
        if step["action"] != "aws:executeScript":
            continue
        tree = ast.parse(step["inputs"]["Script"])
        imported = {
            alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        }
        imported |= {
            node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
        }
        assert imported <= set(sys.stdlib_module_names) | {"boto3", "botocore"}, (step["name"], imported)
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        attributes = {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
        assert not names & {"exec", "eval", "compile", "__import__"}, step["name"]
        assert "modules" not in attributes and "path" not in attributes, step["name"]


def test_constants_come_from_the_contract_and_naming() -> None:
    standalone = yaml.safe_load(render_runbook(naming.RUNBOOK_STANDALONE))
    steps = {s["name"]: s for s in standalone["mainSteps"]}
    by_window = steps["runPatchBaseline"]["inputs"]["Targets"]
    assert by_window == [{"Key": f"tag:{tag_contract.MAINTENANCE_WINDOW_TAG}", "Values": ["{{ MaintenanceWindow }}"]}]
    by_group = steps["runPatchBaselineByPatchGroup"]["inputs"]["Targets"]
    assert by_group == [{"Key": f"tag:{tag_contract.PATCH_GROUP_TAG}", "Values": ["{{ PatchGroup }}"]}]
    assert standalone["parameters"]["MaintenanceWindow"]["default"] == tag_contract.DEFAULT_WINDOW
    asgs = yaml.safe_load(render_runbook("patch_asgs"))
    assert asgs["parameters"]["InstanceProfileName"]["default"] == naming.INSTANCE_PROFILE
    find = next(s for s in asgs["mainSteps"] if s["name"] == "findAsgs")["inputs"]["Script"]
    assert "def skip_reason(" in find and "def exemption_reason(" in find
    assert f"PATCH_GROUP_TAG = {tag_contract.PATCH_GROUP_TAG!r}" in find
    # the other steps do not carry the contract (document size)
    launch = next(s for s in asgs["mainSteps"] if s["name"] == "launchBuilders")["inputs"]["Script"]
    assert "def skip_reason(" not in launch and "PATCH_GROUPS" not in launch


def test_patch_group_parameter_accepts_exactly_the_contract_patch_groups(
    rendered: tuple[str, str, dict[str, Any]],
) -> None:
    _, _, document = rendered
    spec = document["parameters"]["PatchGroup"]
    assert spec["type"] == "String" and spec["default"] == ""
    for value in ("", *tag_contract.PATCH_GROUPS):
        assert re.fullmatch(spec["allowedPattern"], value), value
    for value in ("prod", "Production", "Prod_maintenance_window", " Prod", "Dev|Prod"):
        assert not re.search(spec["allowedPattern"], value), value


def test_the_standalone_runbook_routes_on_patch_group_and_output_bucket() -> None:
    standalone = yaml.safe_load(render_runbook(naming.RUNBOOK_STANDALONE))
    gate, first, branch = standalone["mainSteps"][1:4]  # after chooseBaseline
    assert gate["name"] == "checkChangeGate"  # the freeze and the alarms, before any route (change_gate.py)
    assert first["action"] == "aws:executeScript" and branch["action"] == "aws:branch"
    routes = {c["StringEquals"]: c["NextStep"] for c in branch["inputs"]["Choices"]}
    routes["ByWindow"] = branch["inputs"]["Default"]
    assert routes == {
        "ByWindow": "runPatchBaseline",
        "ByWindowNoOutput": "runPatchBaselineNoOutput",
        "ByPatchGroup": "runPatchBaselineByPatchGroup",
        "ByPatchGroupNoOutput": "runPatchBaselineByPatchGroupNoOutput",
        # an emergency wave for Inspector findings: exactly these instances of the account-Region
        "ByInstanceIds": "runPatchBaselineOnInstances",
        "ByInstanceIdsNoOutput": "runPatchBaselineOnInstancesNoOutput",
    }
    for patch_group in ("", *tag_contract.PATCH_GROUPS):
        for bucket in ("", "logs-bucket"):
            route = patch_instances.choose_route({"PatchGroup": patch_group, "OutputS3BucketName": bucket}, None)
            assert route["route"] == ("ByPatchGroup" if patch_group else "ByWindow") + ("" if bucket else "NoOutput")
            listed = {"PatchGroup": patch_group, "OutputS3BucketName": bucket, "InstanceIds": ["i-0123456789abcdef0"]}
            assert patch_instances.choose_route(listed, None)["route"] == "ByInstanceIds" + (
                "" if bucket else "NoOutput"
            )
    assert (
        patch_instances.choose_route({"PatchGroup": "Dev", "InstanceIds": [""]}, None)["route"]
        == "ByPatchGroupNoOutput"
    )
    run_steps = {s["name"]: s for s in standalone["mainSteps"] if s["action"] == "aws:runCommand"}
    assert set(run_steps) == set(routes.values())
    assert all(s.get("isEnd") is True for s in run_steps.values())
    # apart from the selector and the output settings, every step runs the same command; no empty bucket is sent
    output = ("Targets", "InstanceIds", "OutputS3BucketName", "OutputS3KeyPrefix")
    strip = [{k: v for k, v in s["inputs"].items() if k not in output} for s in run_steps.values()]
    assert all(item == strip[0] for item in strip)
    assert "OutputS3BucketName" not in run_steps["runPatchBaselineNoOutput"]["inputs"]
    assert "OutputS3BucketName" not in run_steps["runPatchBaselineByPatchGroupNoOutput"]["inputs"]
    assert "OutputS3BucketName" not in run_steps["runPatchBaselineOnInstancesNoOutput"]["inputs"]
    assert run_steps["runPatchBaselineOnInstances"]["inputs"]["InstanceIds"] == "{{ InstanceIds }}"
    assert set(standalone["outputs"]) == {f"{name}.{o}" for name in run_steps for o in ("CommandId", "Status")}


def test_the_child_stack_loader_sees_the_parameters_it_passes() -> None:
    standalone = declared_parameters(render_runbook(naming.RUNBOOK_STANDALONE))
    assert {"AutomationAssumeRole", "MaintenanceWindow", "Operation", "RebootOption", "MaxConcurrency"} <= standalone
    assert "PatchGroup" in standalone
    assert {"OutputS3BucketName", "OutputS3KeyPrefix", "InstallOverrideList", "MaxErrors"} <= standalone
    asg = declared_parameters(render_runbook(naming.RUNBOOK_ASG))
    assert {"AutomationAssumeRole", "MaintenanceWindow", "PatchGroup", "MinHealthyPercentage", "Operation"} <= asg


def test_moto_accepts_the_documents(moto_aws: None) -> None:
    ssm = aws.session(aws.ACCOUNTS[0], aws.REGIONS[0]).client("ssm")
    for name in runbook_names():
        ssm.create_document(Name=name, Content=render_runbook(name), DocumentType="Automation", DocumentFormat="YAML")
        assert ssm.describe_document(Name=name)["Document"]["Status"] == "Active"


def test_bad_names_and_handlers_fail_clearly() -> None:
    with pytest.raises(RunbookError, match="unknown runbook 'nope'"):
        render_runbook("nope")
    with pytest.raises(PackagingError, match="handler 'missing'"):
        minimal_source("def other(events, context):\n    return {}\n", "missing")


def test_libyaml_renders_the_same_content_as_pure_python_yaml(rendered: tuple[str, str, dict[str, Any]]) -> None:
    """The program renders with libyaml (components/runbooks: a tenth of the time); a document's content is
    a resource input, so the pure-Python emitter and loader must give the same text and data."""
    from components.runbooks import _Dumper, _str

    class PurePythonDumper(yaml.SafeDumper):
        pass

    PurePythonDumper.add_representer(str, _str)
    _, content, document = rendered
    assert _Dumper.__mro__[1] is getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    assert yaml.load(content, Loader=yaml.SafeLoader) == document
    again = yaml.dump(document, Dumper=PurePythonDumper, sort_keys=False, width=120, allow_unicode=True)
    assert again == yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=120, allow_unicode=True) == content
