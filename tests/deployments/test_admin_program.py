"""The admin program rendered through its real ``__main__.py`` (``render_program``): deployment
settings, drift schedules and the enrollment schedule of every configured stack, with the
values the issue asks for (child runs: the Pulumi token as a secret variable, the central gate,
a session long enough for a whole child run); and ``patchctl admin-preview`` shows them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from google.protobuf import json_format

from patchctl.cli import main
from patchctl.offline.mocks import AwsMocks
from patchctl.offline.monitor import Recorded
from patchctl.offline.render import Capture, render_program

ADMIN_DIR = Path(__file__).resolve().parents[2] / "deployments"
SETTINGS = "pulumiservice:index:DeploymentSettings"
DRIFT = "pulumiservice:index:DriftSchedule"
SCHEDULE = "pulumiservice:index:DeploymentSchedule"
#: How a secret travels on the wire to the engine (pulumi.runtime.rpc).
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
GATE = ".venv/bin/python deployments/gate.py --stack acme/org-patching/child --central acme/org-patching/central"


@pytest.fixture(scope="module")
def capture() -> Capture:
    return render_program(ADMIN_DIR, stack="admin", mocks=AwsMocks(strict=True))


def for_stack(capture: Capture, type_token: str, stack: str) -> list[Recorded]:
    return [r for r in capture.of_type(type_token) if r.inputs.get("stack") == stack]


def wire(record: Recorded) -> dict[str, Any]:
    """The inputs exactly as sent to the engine: a secret stays marked where it is (the SDK's
    deserializer would lift it to the whole ``operationContext``)."""
    return json_format.MessageToDict(record.inputs_struct)


def test_project_and_components(capture: Capture) -> None:
    assert capture.project == "org-patching-admin"
    components = capture.of_type("org-patching-admin:deployments:StackDeployment")
    assert sorted(c.name for c in components) == ["central", "child"]
    for record in [*capture.of_type(SETTINGS), *capture.of_type(DRIFT), *capture.of_type(SCHEDULE)]:
        assert record.parent.endswith(f"::{record.inputs['stack']}"), "each object sits under its stack's component"
        assert record.inputs["organization"] == "acme" and record.inputs["project"] == "org-patching"


@pytest.mark.parametrize(
    ("stack", "role", "duration"),
    [
        ("central", "arn:aws:iam::111111111111:role/pulumi-deployments-central", "1h"),
        ("child", "arn:aws:iam::111111111111:role/pulumi-deployments-child", "3h"),
    ],
)
def test_deployment_settings(capture: Capture, stack: str, role: str, duration: str) -> None:
    (settings,) = for_stack(capture, SETTINGS, stack)
    inputs = wire(settings)
    assert inputs["sourceContext"]["git"] == {"branch": "refs/heads/main", "repoDir": "."}
    assert inputs["vcs"]["provider"] == "github"
    assert inputs["vcs"]["repository"] == "acme/org-patching"
    # The GitHub workflows deploy in order; push-to-deploy would race the stacks.
    assert inputs["vcs"]["deployCommits"] is False and inputs["vcs"]["previewPullRequests"] is False
    assert "github" not in inputs, "the deprecated github block is not used"
    context = inputs["operationContext"]
    assert context["oidc"]["aws"] == {
        "roleARN": role,
        "sessionName": f"pulumi-deployments-{stack}",
        "duration": duration,
    }
    assert context["options"]["skipInstallDependencies"] is True
    assert context["environmentVariables"]["PYTHONUNBUFFERED"] == "1"


def test_child_runs_get_the_token_as_a_secret_and_central_keeps_its_own(capture: Capture) -> None:
    (child,) = for_stack(capture, SETTINGS, "child")
    (central,) = for_stack(capture, SETTINGS, "central")
    token = wire(child)["operationContext"]["environmentVariables"]["PULUMI_ACCESS_TOKEN"]
    # The example's placeholder ciphertext, marked secret: Pulumi Cloud stores it encrypted.
    assert token == {**SECRET_SIG, "value": "secure:v1:REPLACE-WITH-pulumi-config-set-secret"}
    assert "PULUMI_ACCESS_TOKEN" not in wire(central)["operationContext"]["environmentVariables"], (
        "central needs no other stack: it keeps the deployment's own token, scoped to itself"
    )


def test_child_runs_are_gated_on_central(capture: Capture) -> None:
    (child,) = for_stack(capture, SETTINGS, "child")
    (central,) = for_stack(capture, SETTINGS, "central")
    assert wire(child)["operationContext"]["preRunCommands"] == ["make setup", GATE]
    assert wire(central)["operationContext"]["preRunCommands"] == ["make setup"]
    assert capture.outputs["deployments"]["child"]["gatedOn"] == "acme/org-patching/central"
    assert capture.outputs["deployments"]["central"].get("gatedOn") is None


def test_drift_schedules_have_their_own_remediation_switch(capture: Capture) -> None:
    (central,) = for_stack(capture, DRIFT, "central")
    (child,) = for_stack(capture, DRIFT, "child")
    assert (central.inputs["scheduleCron"], central.inputs["autoRemediate"]) == ("0 */6 * * *", False)
    assert (child.inputs["scheduleCron"], child.inputs["autoRemediate"]) == ("30 */6 * * *", True)


def test_schedules_wait_for_their_settings(capture: Capture) -> None:
    for record in [*capture.of_type(DRIFT), *capture.of_type(SCHEDULE)]:
        (settings,) = for_stack(capture, SETTINGS, record.inputs["stack"])
        assert settings.urn in record.dependencies


def test_enrollment_schedule_only_on_the_child(capture: Capture) -> None:
    assert for_stack(capture, SCHEDULE, "central") == []
    (enroll,) = for_stack(capture, SCHEDULE, "child")
    assert enroll.inputs["pulumiOperation"] == "update"
    assert enroll.inputs["scheduleCron"] == "0 3 * * *"


def test_outputs_summarise_each_stack(capture: Capture) -> None:
    summary = capture.outputs["deployments"]
    assert summary["central"]["kind"] == "central" and summary["child"]["kind"] == "child"
    assert summary["child"]["stack"] == "acme/org-patching/child"
    assert summary["child"]["enrollSchedule"] == "0 3 * * *"


def write_config(tmp_path: Path, stacks: dict[str, Any]) -> Path:
    document = yaml.safe_load((ADMIN_DIR / "Pulumi.admin.yaml").read_text())
    document["config"]["org-patching-admin:stacks"] = stacks
    path = tmp_path / "Pulumi.admin.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_child_shards_each_get_settings_and_drift(tmp_path: Path) -> None:
    role = "arn:aws:iam::111111111111:role/deploy"
    config = write_config(
        tmp_path,
        {
            "central": {"awsRoleArn": role},
            "child-eu": {"awsRoleArn": role, "autoRemediate": True, "enrollSchedule": "0 4 * * *"},
            "child-us": {"awsRoleArn": role},
        },
    )
    capture = render_program(ADMIN_DIR, stack="admin", config_file=config, mocks=AwsMocks(strict=True))
    assert sorted(r.inputs["stack"] for r in capture.of_type(SETTINGS)) == ["central", "child-eu", "child-us"]
    assert {r.inputs["stack"]: r.inputs["autoRemediate"] for r in capture.of_type(DRIFT)} == {
        "central": False,
        "child-eu": True,
        "child-us": False,
    }
    assert [r.inputs["stack"] for r in capture.of_type(SCHEDULE)] == ["child-eu"]


def test_admin_preview_shows_both_stacks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "admin.json"
    assert main(["admin-preview", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "account pulumi-cloud" in text
    assert "2  pulumiservice:index:DeploymentSettings" in text
    assert "acme/org-patching/central" in text and "acme/org-patching/child" in text
    assert "drift:     0 */6 * * *  (detect only)" in text
    assert "drift:     30 */6 * * *  (auto-remediate)" in text
    assert "schedule:  pulumi update at 0 3 * * *" in text
    # The token, the gating and the durations.
    assert "env:       PULUMI_ACCESS_TOKEN, PYTHONUNBUFFERED" in text
    assert f"pre-run:   make setup; {GATE}" in text
    assert "session pulumi-deployments-child, 3h" in text and "session pulumi-deployments-central, 1h" in text
    document = json.loads(out.read_text())
    assert document["project"] == "org-patching-admin"
    assert document["summary"]["byAccount"] == {"pulumi-cloud": {"acme": 5}}
    child = document["deployments"]["acme/org-patching/child"]
    assert child["settings"]["awsRoleArn"].endswith("role/pulumi-deployments-child")
    assert "REPLACE-WITH" not in out.read_text(), "the preview document does not carry the secret"
    assert child["drift"] == {"cron": "30 */6 * * *", "autoRemediate": True}
    assert child["schedules"] == [{"operation": "update", "cron": "0 3 * * *"}]


def test_admin_preview_bad_config_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_config(
        tmp_path, {"central": {"awsRoleArn": "arn:aws:iam::111111111111:role/x", "driftSchedule": "0 5 ? * FRI"}}
    )
    assert main(["admin-preview", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "org-patching-admin:stacks.central.driftSchedule: '0 5 ? * FRI' is not a valid schedule" in err


def test_admin_preview_with_policies_runs_the_pack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "admin.json"
    assert main(["admin-preview", "--policies", "--quiet", "--json", str(out)]) == 0
    assert capsys.readouterr().out == ""
    summary = json.loads(out.read_text())["summary"]
    assert summary["policiesRun"] is True
    assert summary["violations"] == {"mandatory": 0, "advisory": 0}
