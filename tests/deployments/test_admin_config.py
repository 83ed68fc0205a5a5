"""The admin program's config: the example parses, and every bad value stops with one line
naming the key (unknown keys, AWS-style or out-of-range cron, bad role ARNs, a second central
stack, enrollment or remediation on the central stack, static AWS credentials, a child token that
is missing or not a secret)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from org_patching_admin.config import (  # the admin program's package: deployments/ is on pytest's pythonpath
    AdminConfigError,
    cron_problem,
    duration_seconds,
    load_stack_file,
    parse_config,
)

ADMIN_DIR = Path(__file__).resolve().parents[2] / "deployments"
ROLE = "arn:aws:iam::111111111111:role/pulumi-deployments"
TOKEN_KEY = "org-patching-admin:childAccessToken"
#: What `pulumi config set --secret` writes into Pulumi.<stack>.yaml.
ENCRYPTED = {"secure": "v1:AAAAAAAAAAAAAAAAAAAAAA==:cafebabe"}


def minimal(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "org-patching-admin:organization": "acme",
        TOKEN_KEY: ENCRYPTED,
        "org-patching-admin:source": {"repository": "acme/org-patching"},
        "org-patching-admin:stacks": {"central": {"awsRoleArn": ROLE}, "child": {"awsRoleArn": ROLE}},
    }
    config.update({f"org-patching-admin:{k}": v for k, v in overrides.items()})
    return config


def error_of(config: dict[str, Any]) -> str:
    with pytest.raises(AdminConfigError) as caught:
        parse_config(config, source="Pulumi.admin.yaml")
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_example_stack_file_parses_with_both_stacks() -> None:
    cfg = load_stack_file(ADMIN_DIR / "Pulumi.admin.yaml")
    assert cfg.ordered_stacks() == ["central", "child"]
    assert cfg.kind_of("central") == "central" and cfg.kind_of("child") == "child"
    assert cfg.stacks["child"].enroll_schedule == "0 3 * * *"
    assert cfg.stacks["child"].auto_remediate is True and cfg.stacks["central"].auto_remediate is False
    assert cfg.pre_run_commands == ["make setup"]
    assert cfg.session_duration_of("child") == "3h" and cfg.session_duration_of("central") == "1h"
    assert cfg.child_access_token.get_secret_value().startswith("secure:v1:")


def test_defaults_are_safe() -> None:
    cfg = parse_config(minimal())
    assert cfg.project == "org-patching"
    assert cfg.source.deploy_commits is False and cfg.source.preview_pull_requests is False
    assert cfg.source.git_branch == "refs/heads/main"
    assert cfg.stacks["central"].auto_remediate is False
    assert cfg.stacks["child"].enroll_schedule is None
    assert cfg.session_name_of("child") == "pulumi-deployments-child"
    # A child run walks every account and region: longer than STS's default hour.
    assert cfg.session_duration_of("child") == "3h" and cfg.session_duration_of("central") == "1h"


def test_child_runs_are_gated_on_central_and_central_runs_are_not() -> None:
    cfg = parse_config(minimal())
    assert cfg.pre_run_commands_of("central") == ["make setup"]
    assert cfg.pre_run_commands_of("child") == [
        "make setup",
        ".venv/bin/python deployments/gate.py --stack acme/org-patching/child --central acme/org-patching/central",
    ]


def test_shards_are_children_central_first() -> None:
    stacks = {
        "child-eu": {"awsRoleArn": ROLE},
        "hub": {"awsRoleArn": ROLE, "kind": "central"},
        "child-us": {"awsRoleArn": ROLE, "enrollSchedule": "15 2 * * MON-FRI"},
    }
    cfg = parse_config(minimal(stacks=stacks))
    assert cfg.ordered_stacks() == ["hub", "child-eu", "child-us"]
    assert [cfg.kind_of(s) for s in cfg.ordered_stacks()] == ["central", "child", "child"]


def test_engine_form_json_text_is_decoded() -> None:
    raw = {k: __import__("json").dumps(v) if isinstance(v, dict) else v for k, v in minimal().items()}
    assert parse_config(raw).stacks["central"].aws_role_arn == ROLE


def test_engine_form_token_is_accepted_when_the_engine_says_it_is_a_secret() -> None:
    raw = {**minimal(), TOKEN_KEY: "pul-0123456789abcdef"}
    cfg = parse_config(raw, is_secret=lambda key: key == TOKEN_KEY)
    assert cfg.child_access_token.get_secret_value() == "pul-0123456789abcdef"
    assert "pul-0123" not in repr(cfg), "the token is never printed"


@pytest.mark.parametrize(
    ("value", "is_secret"),
    [
        ("pul-0123456789abcdef", None),  # plain text in Pulumi.admin.yaml
        ("pul-0123456789abcdef", lambda key: False),  # `pulumi config set` without --secret
        ({"secure": 12}, None),
        ("", lambda key: True),
    ],
)
def test_a_token_that_is_not_a_secret_is_refused(value: Any, is_secret: Any) -> None:
    with pytest.raises(AdminConfigError) as caught:
        parse_config({**minimal(), TOKEN_KEY: value}, source="Pulumi.admin.yaml", is_secret=is_secret)
    message = str(caught.value)
    assert message.startswith(f"Pulumi.admin.yaml: {TOKEN_KEY}: must be set as a secret"), message
    assert "pulumi config set --secret org-patching-admin:childAccessToken" in message
    assert "pul-0123" not in message, "the refused value is not echoed"


def test_the_token_is_required() -> None:
    config = minimal()
    del config[TOKEN_KEY]
    message = error_of(config)
    assert message.startswith(f"Pulumi.admin.yaml: {TOKEN_KEY}: is required: child deployments read the central")


@pytest.mark.parametrize(
    ("overrides", "key", "fragment"),
    [
        ({"sourcee": {}}, "org-patching-admin:sourcee", "unknown key 'sourcee'; did you mean 'source'?"),
        (
            {"stacks": {"central": {"awsRoleArn": ROLE, "driftSchedul": "0 * * * *"}, "child": {"awsRoleArn": ROLE}}},
            "org-patching-admin:stacks.central.driftSchedul",
            "did you mean 'driftSchedule'?",
        ),
        (
            {"stacks": {"central": {"awsRoleArn": ROLE}, "child": {"awsRoleArn": ROLE, "driftSchedule": "0 25 * * *"}}},
            "org-patching-admin:stacks.child.driftSchedule",
            "hour '25' is out of range",
        ),
        (
            {
                "stacks": {
                    "central": {"awsRoleArn": ROLE},
                    "child": {"awsRoleArn": ROLE, "enrollSchedule": "cron(0 3 * * ? *)"},
                }
            },
            "org-patching-admin:stacks.child.enrollSchedule",
            "not AWS cron",
        ),
        (
            {"stacks": {"central": {"awsRoleArn": "arn:aws:iam::1111:role/x"}, "child": {"awsRoleArn": ROLE}}},
            "org-patching-admin:stacks.central.awsRoleArn",
            "not an IAM role ARN",
        ),
        (
            {"stacks": {"central": {"awsRoleArn": ROLE, "sessionDuration": "13h"}, "child": {"awsRoleArn": ROLE}}},
            "org-patching-admin:stacks.central.sessionDuration",
            "15m to 12h",
        ),
        (
            {"stacks": {"central": {"awsRoleArn": ROLE, "enrollSchedule": "0 3 * * *"}, "child": {"awsRoleArn": ROLE}}},
            "org-patching-admin:stacks.central.enrollSchedule",
            "only child stacks",
        ),
        (
            {"stacks": {"central": {"awsRoleArn": ROLE}, "hub": {"awsRoleArn": ROLE, "kind": "central"}}},
            "org-patching-admin:stacks",
            "exactly one central stack",
        ),
        ({"stacks": {"central": {"awsRoleArn": ROLE}}}, "org-patching-admin:stacks", "at least one child"),
        (
            {"environmentVariables": {"AWS_SECRET_ACCESS_KEY": "x"}},
            "org-patching-admin:environmentVariables",
            "OIDC role",
        ),
        (
            {"environmentVariables": {"PULUMI_ACCESS_TOKEN": "pul-x"}},
            "org-patching-admin:environmentVariables",
            "set childAccessToken as a secret",
        ),
        (
            {"stacks": {"central": {"awsRoleArn": ROLE, "autoRemediate": True}, "child": {"awsRoleArn": ROLE}}},
            "org-patching-admin:stacks.central.autoRemediate",
            "only deployed by the reviewed workflow",
        ),
        ({"source": {"repository": "not a repo"}}, "org-patching-admin:source.repository", "owner/name"),
        ({"source": {"repository": "a/b", "repoDir": "../x"}}, "org-patching-admin:source.repoDir", "inside"),
        ({"organization": None}, "org-patching-admin:organization", "got None"),
    ],
)
def test_bad_values_name_their_key(overrides: dict[str, Any], key: str, fragment: str) -> None:
    message = error_of(minimal(**overrides))
    assert message.startswith(f"Pulumi.admin.yaml: {key}: "), message
    assert fragment in message


def test_missing_required_key() -> None:
    config = minimal()
    del config["org-patching-admin:source"]
    assert error_of(config) == "Pulumi.admin.yaml: org-patching-admin:source: is required"


def test_other_namespaces_are_ignored() -> None:
    assert parse_config({**minimal(), "pulumiservice:accessToken": "x", "aws:region": "us-east-1"})


@pytest.mark.parametrize(
    "expression",
    ["0 */6 * * *", "30 2 * * MON-FRI", "0 0 1,15 * *", "*/15 * * JAN,JUL SUN", "0 3 * * 7", "5 4 * * 0-6"],
)
def test_valid_crons(expression: str) -> None:
    assert cron_problem(expression) is None


@pytest.mark.parametrize(
    ("expression", "fragment"),
    [
        ("0 */6 * *", "needs 5 fields"),
        ("0 0 * * * *", "needs 5 fields"),
        ("60 * * * *", "minute '60'"),
        ("0 0 0 * *", "day-of-month '0'"),
        ("0 0 ? * MON", "'?' is AWS cron syntax"),
        ("0 0 * * FRI-MON", "runs backwards"),
        ("*/0 * * * *", "step '0'"),
        ("rate(1 day)", "not AWS cron"),
    ],
)
def test_invalid_crons(expression: str, fragment: str) -> None:
    problem = cron_problem(expression)
    assert problem is not None and fragment in problem


def test_durations() -> None:
    assert duration_seconds("1h30m") == 5400
    assert duration_seconds("45m") == 2700
    assert duration_seconds("") is None
    assert duration_seconds("1 hour") is None
