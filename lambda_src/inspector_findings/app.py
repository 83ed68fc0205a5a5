"""Amazon Inspector findings → an emergency patching request for exactly the affected instance (opt-in hub rule).

Why: Inspector finds vulnerable packages but does not remediate (issue 16 item 4, seed 003). The hub's rule
(``components/hub/inspector_rule.py``, off unless ``org-patching:inspector.enabled``) sends every "Inspector2
Finding" of the delegated administrator's view here. The event is the documented one (Amazon Inspector User
Guide, "Amazon EventBridge event schema for Amazon Inspector events", example "Amazon EC2 package vulnerability
finding": https://docs.aws.amazon.com/inspector/latest/user/eventbridge-integration.html): ``detail.findingArn``,
``detail.awsAccountId``, ``detail.type`` ``PACKAGE_VULNERABILITY``, ``detail.severity``, ``detail.status``,
``detail.fixAvailable``, ``detail.packageVulnerabilityDetails.vulnerabilityId`` and ``detail.resources[]`` (``type``
``AWS_EC2_INSTANCE``, ``id``, ``region``, ``tags``).

A finding qualifies when it is ACTIVE, a package vulnerability of an EC2 instance, at or above ``MIN_SEVERITY``
and ``fixAvailable`` YES (the rule's pattern says the same; the function checks again, so a hand-edited rule or a
replayed event never starts a rollout). The instance's wave is its ``Patch Group`` tag as the finding reports it:
an instance without one is not under the tag contract (or was exempted: the contract removes the tag), and an
Auto Scaling group member is rebaked, not patched in place; both are skipped with the reason.

The request (``lambda_shared/emergency_request.py``: the same model as ``patchctl emergency start``) installs on
exactly that instance (``targets.instances``: its ARN names the account and Region) in its one wave, and links the
finding and its vulnerability id. It is started through the approval gate like a person's request, with this
function's own signed identity proof: the state machine validates it, the configured approvals apply, and
``requested_by`` is this function's role (so any person may approve it).

Dedupe (the hub's failure-alert table, ``naming.FAILURE_ALERTS_TABLE``): one item per vulnerability and instance,
``inspector#<vulnerabilityId>#<instance id>``, naming the execution it started. A repeated finding (Inspector
re-publishes a finding on every update) starts nothing while that execution is RUNNING; once it ended, a finding
that is still ACTIVE starts a new rollout. Environment: ``TABLE_NAME``, ``APPROVAL_FUNCTION``,
``STATE_MACHINE_ARN``, ``MIN_SEVERITY`` [CRITICAL], ``REBOOT_OPTION`` [RebootIfNeeded], ``DEDUPE_DAYS`` [14].
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import tag_contract
from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError
from lambda_shared import caller_proof
from lambda_shared.clients import client
from lambda_shared.emergency_request import InvalidEmergencyInput, check_request

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "org-patching-inspector-findings"))

#: Inspector's severities, lowest first (Inspector2 API reference, Finding.severity; UNTRIAGED never qualifies).
SEVERITIES = ("INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
DETAIL_TYPE, SOURCE = "Inspector2 Finding", "aws.inspector2"
_ACCOUNT = re.compile(r"^\d{12}\Z", re.ASCII)
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8,17}\Z", re.ASCII)
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d\Z", re.ASCII)
#: What Inspector sets on an Auto Scaling group member (an AWS tag, which app teams cannot set).
ASG_TAG = "aws:autoscaling:groupName"


class InvalidFinding(Exception):
    """The event is not a finding event this function can read (one line: the field and why)."""


@dataclass(frozen=True)
class Finding:
    arn: str
    account: str
    region: str
    instance_id: str
    vulnerability: str
    severity: str
    wave: str | None
    asg_member: bool

    @property
    def instance_arn(self) -> str:
        partition = self.arn.split(":")[1]
        return f"arn:{partition}:ec2:{self.region}:{self.account}:instance/{self.instance_id}"

    @property
    def dedupe_key(self) -> str:
        return f"inspector#{self.vulnerability}#{self.instance_id}"


def _text(mapping: Any, name: str, where: str) -> str:
    value = mapping.get(name) if isinstance(mapping, dict) else None
    if not isinstance(value, str) or not value:
        raise InvalidFinding(f"{where}{name}: {value!r} is not a non-empty string")
    return value


def read_finding(event: Any) -> Finding | str:
    """The finding of an EventBridge event, or why it does not qualify (a string); :class:`InvalidFinding` when
    the event is not a readable finding event."""
    if not isinstance(event, dict):
        raise InvalidFinding(f"event: {type(event).__name__} is not a JSON object")
    if event.get("source") != SOURCE or event.get("detail-type") != DETAIL_TYPE:
        raise InvalidFinding(f"event: {event.get('source')!r}/{event.get('detail-type')!r} is not an {DETAIL_TYPE}")
    detail = event.get("detail")
    if not isinstance(detail, dict):
        raise InvalidFinding("detail: is not a JSON object")
    arn = _text(detail, "findingArn", "detail.")
    account = _text(detail, "awsAccountId", "detail.")
    if not _ACCOUNT.match(account):
        raise InvalidFinding(f"detail.awsAccountId: {account!r} is not a 12-digit account id")
    if detail.get("type") != "PACKAGE_VULNERABILITY":
        return f"type {detail.get('type')!r} is not PACKAGE_VULNERABILITY"
    if detail.get("status") != "ACTIVE":
        return f"status {detail.get('status')!r} is not ACTIVE"
    if detail.get("fixAvailable") != "YES":
        return f"fixAvailable {detail.get('fixAvailable')!r}: no fix to install"
    severity = str(detail.get("severity"))
    minimum = os.environ.get("MIN_SEVERITY", "CRITICAL")
    if severity not in SEVERITIES or SEVERITIES.index(severity) < SEVERITIES.index(minimum):
        return f"severity {severity!r} is below {minimum}"
    instances = [
        r for r in detail.get("resources") or [] if isinstance(r, dict) and r.get("type") == "AWS_EC2_INSTANCE"
    ]
    if len(instances) != 1:
        return f"{len(instances)} EC2 instances in detail.resources (one expected)"
    [resource] = instances
    instance_id, region = _text(resource, "id", "detail.resources[]."), _text(resource, "region", "detail.resources[].")
    if not _INSTANCE_ID.match(instance_id) or not _REGION.match(region):
        raise InvalidFinding(f"detail.resources[]: {instance_id!r} in {region!r} is not an EC2 instance in a Region")
    vulnerability = _text(
        detail.get("packageVulnerabilityDetails"), "vulnerabilityId", "detail.packageVulnerabilityDetails."
    )
    given = resource.get("tags")
    tags: dict[str, Any] = given if isinstance(given, dict) else {}
    wave = tags.get(tag_contract.PATCH_GROUP_TAG)
    return Finding(
        arn=arn,
        account=account,
        region=region,
        instance_id=instance_id,
        vulnerability=vulnerability,
        severity=severity,
        wave=wave if wave in tag_contract.PATCH_GROUPS else None,
        asg_member=ASG_TAG in tags,
    )


def request_for(finding: Finding) -> dict[str, Any]:
    """The emergency request for one finding: install on exactly its instance, in the instance's wave."""
    return {
        "patching_operation": "Install",
        "operation_post_patching": os.environ.get("REBOOT_OPTION", "RebootIfNeeded"),
        "env": finding.wave,
        "targets": {"instances": [finding.instance_arn]},
        "findings": [finding.arn],
        "vulnerabilities": [finding.vulnerability],
    }


def _pending(table: Any, finding: Finding) -> str | None:
    """The execution a previous finding started for this vulnerability and instance, if it is still running."""
    item = table.get_item(Key={"pk": finding.dedupe_key}, ConsistentRead=True).get("Item")
    if not item:
        return None
    execution = str(item.get("execution_arn", ""))
    try:
        status = client("stepfunctions").describe_execution(executionArn=execution)["status"]
    except ClientError as error:
        if error.response["Error"]["Code"] != "ExecutionDoesNotExist":
            raise
        # claimed but not started yet (a concurrent delivery), or the start failed: pending for a while
        return execution if time.time() - float(item.get("claimed_at", 0)) < 300 else None
    return execution if status == "RUNNING" else None


def _claim(table: Any, finding: Finding, execution: str, previous: str | None) -> bool:
    """Record this execution for the finding's key: only if no other delivery claimed it meanwhile."""
    now = int(time.time())
    condition = "attribute_not_exists(pk)" if previous is None else "execution_arn = :previous"
    values = {} if previous is None else {":previous": previous}
    try:
        table.put_item(
            Item={
                "pk": finding.dedupe_key,
                "execution_arn": execution,
                "finding_arn": finding.arn,
                "claimed_at": now,
                "expires": now + int(os.environ.get("DEDUPE_DAYS", "14")) * 86400,
            },
            ConditionExpression=condition,
            **({"ExpressionAttributeValues": values} if values else {}),
        )
    except ClientError as error:
        if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
            return False
        raise
    return True


def _start(request: dict[str, Any], nonce: str) -> dict[str, Any]:
    """Start the request through the approval gate as this function (its own signed identity proof)."""
    session = boto3.session.Session()
    credentials = session.get_credentials()
    if credentials is None:
        raise RuntimeError("no credentials in the function's environment")
    region = session.region_name or os.environ["AWS_REGION"]
    proof = caller_proof.sign(
        credentials.get_frozen_credentials(), region, caller_proof.binding("start", request=request, nonce=nonce)
    )
    response = client("lambda").invoke(
        FunctionName=os.environ["APPROVAL_FUNCTION"],
        Payload=json.dumps({"action": "start", "request": request, "nonce": nonce, "proof": proof}).encode(),
    )
    body = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError") or not isinstance(body, dict):
        raise RuntimeError(f"the approval gate refused the start: {body}")
    return body


def process(event: Any, table: Any) -> dict[str, Any]:
    """What one event leads to: ``started``, ``duplicate``, ``skipped`` or ``rejected`` (a bad event)."""
    try:
        finding = read_finding(event)
    except InvalidFinding as invalid:
        return {"status": "rejected", "reason": str(invalid)}
    if isinstance(finding, str):
        return {"status": "skipped", "reason": finding}
    where = {"finding": finding.arn, "instance": finding.instance_arn, "vulnerability": finding.vulnerability}
    if finding.asg_member:
        return {"status": "skipped", "reason": "an Auto Scaling group member: its group is rebaked", **where}
    if finding.wave is None:
        return {
            "status": "skipped",
            "reason": f"no {tag_contract.PATCH_GROUP_TAG} tag: not under the contract",
            **where,
        }
    request = request_for(finding)
    try:
        check_request(request)  # the state machine checks it again; a bad one must never be claimed
    except InvalidEmergencyInput as invalid:
        return {"status": "rejected", "reason": str(invalid), **where}
    running = _pending(table, finding)
    if running is not None:
        return {"status": "duplicate", "reason": "a rollout for it is pending", "execution_arn": running, **where}
    previous = table.get_item(Key={"pk": finding.dedupe_key}, ConsistentRead=True).get("Item")
    nonce = str(uuid.uuid4())
    machine = os.environ["STATE_MACHINE_ARN"]
    prefix, _, name = machine.rpartition(":stateMachine:")
    execution = f"{prefix}:execution:{name}:emergency-{nonce}"
    if not _claim(table, finding, execution, str(previous["execution_arn"]) if previous else None):
        return {"status": "duplicate", "reason": "another delivery claimed it", **where}
    try:
        started = _start(request, nonce)
    except Exception:
        table.delete_item(
            Key={"pk": finding.dedupe_key},
            ConditionExpression="execution_arn = :mine",
            ExpressionAttributeValues={":mine": execution},
        )
        raise
    return {"status": "started", "execution_arn": started["execution_arn"], "wave": finding.wave, **where}


@logger.inject_lambda_context
def handler(event: Any, context: LambdaContext) -> dict[str, Any]:
    """One EventBridge event; a bad event is logged and answered (a retry would not make it readable)."""
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    outcome = process(event, table)
    log = logger.warning if outcome["status"] == "rejected" else logger.info
    log(f"finding {outcome['status']}", extra=outcome)
    return outcome
