"""Multi-account moto helpers shared by the runtime tests (Lambdas, runbook scripts, moto extensions).

The multi-account mechanics are the dev kit's (:class:`devkit.emulator.Accounts`): the
``moto_aws`` fixture runs an :class:`~devkit.emulator.Emulator`, and :func:`session`,
:func:`as_account` and :func:`credentials` act on it. Plain functions, not fixtures, because
they compose better inside tests. What is here on top: the accounts and regions the tests use,
fault injection, fleet builders and the runbook interpreter bound to the running emulator.
"""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from devkit.emulator import Emulator

ACCOUNTS: tuple[str, ...] = ("111111111111", "222222222222", "333333333333")
REGIONS: tuple[str, ...] = ("us-east-1", "eu-west-1")
#: moto accepts any ``ami-`` id; this one reads like a real Amazon Linux id.
AMI = "ami-0123456789abcdef0"

_RUNNING: list[Emulator] = []


@contextmanager
def running(emulator: Emulator) -> Iterator[Emulator]:
    """Make :func:`session`, :func:`as_account` and :func:`credentials` act on ``emulator`` (the fixture's)."""
    _RUNNING.append(emulator)
    try:
        yield emulator
    finally:
        _RUNNING.remove(emulator)


def emulator() -> Emulator:
    if not _RUNNING:
        raise RuntimeError("tests.aws needs a running emulator: use the moto_aws fixture")
    return _RUNNING[-1]


def credentials(account: str) -> dict[str, str]:
    """Credentials moto maps to ``account``."""
    return emulator().credentials(account)


def session(account: str, region: str) -> boto3.session.Session:
    """A session whose calls land in ``account``/``region``."""
    return emulator().session(account, region)


def as_account(account: str, region: str) -> AbstractContextManager[boto3.session.Session]:
    """Run code that uses boto3's default session (a Lambda handler) as ``account`` in ``region``."""
    return emulator().as_account(account, region)


def tags_of(items: list[dict[str, Any]] | None) -> dict[str, str]:
    """``[{"Key":..,"Value":..}]`` as a dict."""
    return {t["Key"]: t.get("Value", "") for t in items or []}


# ------------------------------------------------------------------------------------------------------------
# Fault injection: a before-send hook answers some requests with an AWS error
# ------------------------------------------------------------------------------------------------------------


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any, **__: Any) -> bytes:
        return self._body


#: ids of requests a fault hook answered: moto's own before-send handler must not execute them.
#: botocore calls EVERY before-send handler and keeps the first response, so without this guard moto would still
#: apply a "throttled" CreateTags (the retry would then hide that the first attempt failed).
_ANSWERED: set[int] = set()


def guard_injected_requests(monkeypatch: Any) -> None:
    """Make moto skip requests that a fault hook of this module already answered."""
    from moto.core.botocore_stubber import BotocoreStubber

    original = BotocoreStubber.__call__

    def guarded(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        if id(request) in _ANSWERED:
            _ANSWERED.discard(id(request))
            return None
        return original(self, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", guarded)


def error_response(request: Any, code: str, status: int = 400) -> AWSResponse:
    """An AWS error in the wire format of the request's protocol (ec2, query or json)."""
    _ANSWERED.add(id(request))
    headers = {k.lower(): v for k, v in request.headers.items()}
    target = headers.get("x-amz-target")
    if target:
        body = json.dumps({"__type": code, "message": "injected"}).encode()
        return AWSResponse(
            request.url,
            status,
            {"x-amzn-errortype": code, "content-type": "application/x-amz-json-1.1"},
            _Raw(body),
        )
    if "ec2." in request.url:
        xml = (
            f"<Response><Errors><Error><Code>{code}</Code><Message>injected</Message></Error></Errors>"
            "<RequestID>x</RequestID></Response>"
        )
    else:
        xml = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>injected</Message></Error>"
            "<RequestId>x</RequestId></ErrorResponse>"
        )
    return AWSResponse(request.url, status, {}, _Raw(xml.encode()))


THROTTLE_CODES = {"ec2": "RequestLimitExceeded", "json": "ThrottlingException", "query": "Throttling"}


def throttle_randomly(
    events: Any, rate: float = 0.3, seed: int = 7, services: tuple[str, ...] = ("ec2", "auto-scaling", "ssm")
) -> Callable[[], int]:
    """Answer ``rate`` of the requests of ``services`` with a throttling error; returns a counter of injections.

    Registered first on ``events`` (a session's or a client's), so it runs before moto's own before-send handler
    and every throttled call goes through botocore's real retry logic.
    """
    rng = random.Random(seed)
    injected = itertools.count()
    count = [0]

    def hook(request: Any, **_: Any) -> AWSResponse | None:
        if rng.random() >= rate:
            return None
        next(injected)
        count[0] += 1
        headers = {k.lower(): v for k, v in request.headers.items()}
        kind = "json" if "x-amz-target" in headers else ("ec2" if "ec2." in request.url else "query")
        return error_response(request, THROTTLE_CODES[kind], 400 if kind != "ec2" else 503)

    for service in services:
        events.register_first(f"before-send.{service}", hook)
    return lambda: count[0]


def deny(events: Any, operations: tuple[str, ...], service: str = "ec2") -> None:
    """Answer the named operations (e.g. ``CreateTags``) with AccessDenied / UnauthorizedOperation."""
    code = "UnauthorizedOperation" if service == "ec2" else "AccessDenied"

    def hook(request: Any, **_: Any) -> AWSResponse:
        return error_response(request, code, 403)

    for operation in operations:
        events.register_first(f"before-send.{service}.{operation}", hook)


def zero_backoff(monkeypatch: Any) -> None:
    """botocore retries without sleeping (standard and adaptive modes)."""
    from botocore.retries import bucket, standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)
    monkeypatch.setattr(bucket.TokenBucket, "acquire", lambda self, retry=False: True)


# ------------------------------------------------------------------------------------------------------------
# Fleet builders
# ------------------------------------------------------------------------------------------------------------


def subnets(sess: boto3.session.Session) -> list[str]:
    """The default VPC's subnet ids (moto creates one per availability zone)."""
    ec2 = sess.client("ec2")
    found = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    return sorted(s["SubnetId"] for s in found)


def run_instances(
    sess: boto3.session.Session,
    tags: dict[str, str] | None = None,
    count: int = 1,
    profile: str | None = None,
    image_id: str = AMI,
) -> list[str]:
    """Launch ``count`` instances with ``tags`` (one reservation); returns their ids. Reserved
    ``aws:`` tags (which EC2 refuses from users) are written the way EKS/ECS write them."""
    from devkit.moto_extensions.ec2.reserved_tags import split_reserved, write_service_tags

    user_tags, service_tags = split_reserved(tags or {})
    kwargs: dict[str, Any] = {"ImageId": image_id, "MinCount": count, "MaxCount": count, "InstanceType": "t3.micro"}
    if user_tags:
        kwargs["TagSpecifications"] = [
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in user_tags.items()]}
        ]
    if profile:
        kwargs["IamInstanceProfile"] = {"Name": profile}
    ids = [i["InstanceId"] for i in sess.client("ec2").run_instances(**kwargs)["Instances"]]
    if service_tags:
        account = sess.client("sts").get_caller_identity()["Account"]
        write_service_tags(account, sess.region_name, ids, service_tags)
    return ids


def instance_tags(sess: boto3.session.Session, instance_id: str) -> dict[str, str]:
    """Current tags of one instance."""
    reservations = sess.client("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"]
    return tags_of(reservations[0]["Instances"][0].get("Tags"))


def instances_tags(sess: boto3.session.Session, instance_ids: list[str]) -> dict[str, dict[str, str]]:
    """Current tags of many instances in one call."""
    reservations = sess.client("ec2").describe_instances(InstanceIds=instance_ids)["Reservations"]
    return {i["InstanceId"]: tags_of(i.get("Tags")) for r in reservations for i in r["Instances"]}


def create_launch_template(
    sess: boto3.session.Session,
    name: str,
    image_id: str = AMI,
    profile: str | None = None,
    tags: dict[str, str] | None = None,
) -> str:
    """A launch template with a realistic data set (type, profile, tags, metadata options); ``tags`` on the
    template itself (a rebaked group's template carries its ``Patch Group``)."""
    data: dict[str, Any] = {
        "ImageId": image_id,
        "InstanceType": "t3.small",
        "MetadataOptions": {"HttpTokens": "required"},
        "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "app", "Value": name}]}],
    }
    if profile:
        data["IamInstanceProfile"] = {"Name": profile}
    return str(
        sess.client("ec2").create_launch_template(
            LaunchTemplateName=name,
            LaunchTemplateData=data,
            TagSpecifications=[
                {"ResourceType": "launch-template", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
            ]
            if tags
            else [],
        )["LaunchTemplate"]["LaunchTemplateId"]
    )


def create_asg(
    sess: boto3.session.Session,
    name: str,
    tags: dict[str, str] | None = None,
    desired: int = 1,
    template_id: str | None = None,
    propagate: bool = True,
    mixed: bool = False,
    version: str = "$Default",
) -> str:
    """An ASG on a launch template (created if not given) across the default subnets."""
    template_tags = {k: v for k, v in (tags or {}).items() if k == "Patch Group"}
    template_id = template_id or create_launch_template(sess, f"lt-{name}", tags=template_tags)
    kwargs: dict[str, Any] = {
        "AutoScalingGroupName": name,
        "MinSize": 0,
        "MaxSize": max(desired, 1) * 2,
        "DesiredCapacity": desired,
        "VPCZoneIdentifier": ",".join(subnets(sess)[:2]),
        "Tags": [
            {
                "ResourceId": name,
                "ResourceType": "auto-scaling-group",
                "Key": k,
                "Value": v,
                "PropagateAtLaunch": propagate,
            }
            for k, v in (tags or {}).items()
        ],
    }
    spec = {"LaunchTemplateId": template_id, "Version": version}
    if mixed:
        kwargs["MixedInstancesPolicy"] = {
            "LaunchTemplate": {
                "LaunchTemplateSpecification": spec,
                "Overrides": [{"InstanceType": "t3.small"}, {"InstanceType": "t3a.small"}],
            }
        }
    else:
        kwargs["LaunchTemplate"] = spec
    sess.client("autoscaling").create_auto_scaling_group(**kwargs)
    return name


def asg_tags(sess: boto3.session.Session, name: str) -> dict[str, str]:
    """Current tags of one ASG."""
    groups = sess.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    return tags_of(groups[0].get("Tags"))


def create_window(sess: boto3.session.Session, name: str) -> str:
    """An SSM maintenance window (what the Service Catalog product creates)."""
    return str(
        sess.client("ssm").create_maintenance_window(
            Name=name, Schedule="rate(7 days)", Duration=4, Cutoff=1, AllowUnassociatedTargets=True
        )["WindowId"]
    )


EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
SSM_CORE = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": ["ssm:UpdateInstanceInformation"], "Resource": "*"}],
}


def create_instance_profile(sess: boto3.session.Session, name: str = "InstanceProfileforPatching") -> str:
    """The patching instance profile (IAM is global: one per account)."""
    iam = sess.client("iam")
    try:
        iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
        # what the SSM agent needs to register (AmazonSSMManagedInstanceCore's registration call)
        iam.put_role_policy(RoleName=f"{name}-role", PolicyName="ssm-core", PolicyDocument=json.dumps(SSM_CORE))
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=f"{name}-role")
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    return name


class CallCounter:
    """Counts API calls by operation name through botocore's ``before-call`` event (no estimation)."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls[model.name] = self.calls.get(model.name, 0) + 1

    def attach(self, events: Any) -> CallCounter:
        events.register("before-call", self)
        return self

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def writes(self) -> int:
        """Calls that change something (tags)."""
        return sum(n for op, n in self.calls.items() if op in ("CreateTags", "CreateOrUpdateTags", "DeleteTags"))


# ------------------------------------------------------------------------------------------------------------
# A small SSM Automation interpreter for the project's runbooks (schema 0.3)
# ------------------------------------------------------------------------------------------------------------

#: Actions of the SSM Automation actions reference ("Systems Manager Automation actions reference").
AUTOMATION_ACTIONS = frozenset(
    {
        "aws:approve",
        "aws:assertAwsResourceProperty",
        "aws:branch",
        "aws:changeInstanceState",
        "aws:copyImage",
        "aws:createImage",
        "aws:createStack",
        "aws:createTags",
        "aws:deleteImage",
        "aws:deleteStack",
        "aws:executeAutomation",
        "aws:executeAwsApi",
        "aws:executeScript",
        "aws:executeStateMachine",
        "aws:invokeLambdaFunction",
        "aws:invokeWebhook",
        "aws:loop",
        "aws:pause",
        "aws:runCommand",
        "aws:runInstances",
        "aws:sleep",
        "aws:updateVariable",
        "aws:waitForAwsResourceProperty",
    }
)
#: Outputs every step of an action has without declaring them.
IMPLICIT_OUTPUTS = {
    "aws:runCommand": {"CommandId", "Status", "ResponseCode", "Output"},
    "aws:executeScript": {"OutputPayload"},
}


def automation(
    content: str,
    parameters: dict[str, Any],
    account: str,
    region: str,
    run_command: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    execution_id: str = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    abort_after: int | None = None,
) -> dict[str, Any]:
    """Run a rendered runbook as SSM Automation walks it (the emulator's interpreter, shared
    with ``python -m devkit demo``), as ``account`` in ``region``; ``abort_after`` stops it after that many steps."""
    from devkit.runbook_interpreter import run_runbook

    return run_runbook(
        content,
        parameters,
        account,
        region,
        as_account=as_account,
        run_command=run_command,
        execution_id=execution_id,
        abort_after=abort_after,
    )
