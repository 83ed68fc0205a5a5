"""EventBridge patterns of the patch events, shared by the child's forwarding rule and the hub's rules.

Pure data (no Pulumi import). Event shapes and detail-types are the ones SSM, CloudFormation and
Step Functions document ("Amazon EventBridge event examples for Systems Manager" in the SSM user
guide; "CloudFormation events in EventBridge"; "Step Functions events"). One rule carries all the
child's patterns through ``$or`` ("Content filtering in Amazon EventBridge event patterns"), so a
child account-region costs one rule and one target however many kinds are forwarded.
"""

from __future__ import annotations

from typing import Any

from . import naming

SSM = "aws.ssm"
CLOUDFORMATION = "aws.cloudformation"
STEP_FUNCTIONS = "aws.states"
CLOUDWATCH = "aws.cloudwatch"

COMMAND_INVOCATION = "EC2 Command Invocation Status-change Notification"
COMMAND = "EC2 Command Status-change Notification"
COMPLIANCE = "Configuration Compliance State Change"
AUTOMATION = "EC2 Automation Execution Status-change Notification"
WINDOW_TASK = "Maintenance Window Task Execution State-change Notification"
CUSTOM_RESOURCE = "CloudFormation Resource Status Change"
STATE_MACHINE = "Step Functions Execution Status Change"
#: A CloudWatch alarm's state change ("Alarm events and EventBridge", CloudWatch User Guide).
ALARM_STATE = "CloudWatch Alarm State Change"
#: The emergency rollout's summary event (``components/hub/emergency_patching.py`` DETAIL_TYPE).
ROLLOUT_FINISHED = "Emergency Patching Rollout Finished"

#: The document every patch run executes (the runbooks run it through ``aws:runCommand``).
PATCH_DOCUMENT = "AWS-RunPatchBaseline"
RUNBOOKS: tuple[str, ...] = (naming.RUNBOOK_STANDALONE, naming.RUNBOOK_ASG)
#: The sources the child forwards (the hub's archive rule files every one of them).
FORWARDED_SOURCES: tuple[str, ...] = (SSM, CLOUDFORMATION)

WINDOW_TASK_FAILED: tuple[str, ...] = ("FAILED", "TIMED_OUT")
AUTOMATION_FAILED: tuple[str, ...] = ("Failed", "TimedOut", "CompletedWithFailure")
STATE_MACHINE_FAILED: tuple[str, ...] = ("FAILED", "TIMED_OUT", "ABORTED")
CUSTOM_RESOURCE_FAILED: tuple[str, ...] = ("CREATE_FAILED", "UPDATE_FAILED", "DELETE_FAILED")


def forwarded_pattern() -> dict[str, Any]:
    """The child rule's pattern: patch runs, patch compliance, the patching runbooks, window tasks,
    failed custom resources (the catalog product's window tagging) and the account's functions alarm
    going into ALARM (``components/spoke/functions_alarm.py``)."""
    return {
        "$or": [
            {
                "source": [SSM],
                "detail-type": [COMMAND_INVOCATION, COMMAND],
                "detail": {"document-name": [PATCH_DOCUMENT]},
            },
            {"source": [SSM], "detail-type": [COMPLIANCE], "detail": {"compliance-type": ["Patch"]}},
            {"source": [SSM], "detail-type": [AUTOMATION], "detail": {"Definition": list(RUNBOOKS)}},
            {"source": [SSM], "detail-type": [WINDOW_TASK]},
            {
                "source": [CLOUDFORMATION],
                "detail-type": [CUSTOM_RESOURCE],
                "detail": {
                    "resource-type": [{"prefix": "Custom::"}],
                    "status-details": {"status": list(CUSTOM_RESOURCE_FAILED)},
                },
            },
            child_alarm_pattern(),
        ]
    }


def child_alarm_pattern() -> dict[str, Any]:
    """The account's functions alarm entering ALARM (its other transitions are not failures)."""
    return {
        "source": [CLOUDWATCH],
        "detail-type": [ALARM_STATE],
        "detail": {"alarmName": [naming.CHILD_FUNCTIONS_ALARM], "state": {"value": ["ALARM"]}},
    }


def archive_pattern() -> dict[str, Any]:
    """The hub's archive rule: every event on the patch-event bus from a forwarded source."""
    return {"source": list(FORWARDED_SOURCES)}


def forwarded_failures_pattern() -> dict[str, Any]:
    """The hub's failure rule on the patch-event bus (the function decides which are alerted)."""
    return {
        "$or": [
            {"source": [SSM], "detail-type": [WINDOW_TASK], "detail": {"status": list(WINDOW_TASK_FAILED)}},
            {"source": [SSM], "detail-type": [AUTOMATION], "detail": {"Status": list(AUTOMATION_FAILED)}},
            {
                "source": [CLOUDFORMATION],
                "detail-type": [CUSTOM_RESOURCE],
                "detail": {"status-details": {"status": list(CUSTOM_RESOURCE_FAILED)}},
            },
            child_alarm_pattern(),
        ]
    }


def rollout_failures_pattern(state_machine_arn: str) -> dict[str, Any]:
    """The hub's failure rule on its default bus: the emergency rollout stopping or failing."""
    return {
        "$or": [
            {
                "source": [naming.EVENT_SOURCE],
                "detail-type": [ROLLOUT_FINISHED],
                "detail": {"status": ["WaveErrorThresholdExceeded"]},
            },
            {
                "source": [STEP_FUNCTIONS],
                "detail-type": [STATE_MACHINE],
                "detail": {"stateMachineArn": [state_machine_arn], "status": list(STATE_MACHINE_FAILED)},
            },
        ]
    }
