"""Run Command as SSM runs it, on the emulator: ``aws:runCommand`` of a runbook, delivered by
SSM's own targeting to managed instances, run by the (emulated) SSM agent on each.

moto's ``send_command`` records a command but runs nothing. :class:`RunCommandAgent` is what
happens next in AWS:

* SSM resolves ``Targets`` (``tag:<key>``) or ``InstanceIds`` against its MANAGED instances
  (``DescribeInstanceInformation``: the moto extension's managed-instance view), not against EC2;
  an instance id that is not managed fails the command ("not a managed instance").
* It sends to ``MaxConcurrency`` instances at a time and stops sending once the failures exceed
  ``MaxErrors``. The command is ``Success`` only when every invocation succeeded; a command with
  failures is ``Failed`` once they reach ``MaxErrors``, else ``Incomplete`` (SSM API reference,
  ``Command.StatusDetails``). Either way ``aws:runCommand`` fails the Automation step.
* On each instance the agent runs AWS-RunPatchBaseline (the moto extension's ``simulate_patch_run``
  writes what it reports); an Install that leaves a patch ``Failed`` fails the invocation.
* The agent uploads the output to ``OutputS3BucketName`` under
  ``<OutputS3KeyPrefix>/<CommandId>/<InstanceId>/awsrunShellScript/PatchLinux/stdout`` with the
  INSTANCE's role, so only where that role's policies allow ``s3:PutObject`` (SSM User Guide,
  "Run Command output": the instance profile needs the S3 permission).
"""

from __future__ import annotations

import fnmatch
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from devkit.emulator import Emulator

PATCH_DOCUMENT = "AWS-RunPatchBaseline"


class CommandFailed(RuntimeError):
    """The command's status is not Success: ``aws:runCommand`` fails its step with this reason."""


@dataclass
class Invocation:
    instance_id: str
    status: str  # Success | Failed
    reason: str = ""
    output_key: str | None = None


@dataclass
class CommandRun:
    """One SendCommand as the emulated agent ran it."""

    account: str
    region: str
    command_id: str
    document: str
    status: str
    targets: list[str]
    invocations: list[Invocation] = field(default_factory=list)
    not_written: list[str] = field(default_factory=list)  # "<instance>: <reason>" of outputs the role may not write
    output_bucket: str = ""  # the registered OutputS3BucketName ("": the command keeps no output)

    @property
    def reason(self) -> str:
        failed = [f"{i.instance_id}: {i.reason}" for i in self.invocations if i.status != "Success"]
        unsent = len(self.targets) - len(self.invocations)
        tail = f"; {unsent} not sent (MaxErrors reached)" if unsent else ""
        return f"command {self.command_id} {self.status}: " + "; ".join(failed) + tail


def limit(value: str, targets: int, *, at_least_one: bool) -> int:
    """A MaxConcurrency/MaxErrors value (``10`` or ``10%``) as a number of instances; a
    percentage is of the target count, rounded down (at least one for concurrency)."""
    number = math.floor(targets * int(value[:-1]) / 100) if value.endswith("%") else int(value)
    return max(1, number) if at_least_one else number


def _statements(document: Any) -> list[dict[str, Any]]:
    parsed = json.loads(unquote(document)) if isinstance(document, str) else document
    statements = parsed.get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _matches(patterns: Any, value: str) -> bool:
    items = [patterns] if isinstance(patterns, str) else list(patterns or [])
    return any(fnmatch.fnmatchcase(value.lower(), p.lower()) for p in items)


def role_allows(iam: Any, role_name: str, action: str, resource: str) -> bool:
    """Whether the role's identity policies (inline and attached) allow ``action`` on
    ``resource``: an Allow that matches and no Deny that matches (IAM policy evaluation logic,
    explicit deny wins). Conditions are not evaluated: the instance role's S3 statements have none."""
    documents = [
        iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    ]
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
        version = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"])
        documents.append(version["PolicyVersion"]["Document"])
    allowed = False
    for statement in (s for d in documents for s in _statements(d)):
        if _matches(statement.get("Action"), action) and _matches(statement.get("Resource"), resource):
            if statement.get("Effect") == "Deny":
                return False
            allowed = True
    return allowed


class RunCommandAgent:
    """``aws:runCommand`` for the runbook interpreter, in every account-region of the emulator.

    ``failing``: per instance id, the patch ids whose install fails on it. Every command run is
    kept in ``commands`` (the demo prints each failure from there)."""

    def __init__(self, emu: Emulator, failing: Mapping[str, Iterable[str]] | None = None) -> None:
        self.emu = emu
        self.failing = {instance: tuple(ids) for instance, ids in (failing or {}).items()}
        self.commands: list[CommandRun] = []

    def runner(self, account: str, region: str) -> Any:
        """The ``run_command`` callable of ``devkit.runbook_interpreter.run_runbook``."""

        def run(inputs: dict[str, Any]) -> dict[str, Any]:
            command = self.send(account, region, inputs)
            if command.status != "Success":
                raise CommandFailed(command.reason)
            return {"CommandId": command.command_id, "Status": command.status}

        return run

    def managed(self, account: str, region: str, filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ssm = self.emu.session(account, region).client("ssm")
        items: list[dict[str, Any]] = []
        for page in ssm.get_paginator("describe_instance_information").paginate(Filters=filters):
            items += page["InstanceInformationList"]
        return items

    def resolve(self, account: str, region: str, inputs: Mapping[str, Any]) -> list[str]:
        """The managed instances the command goes to (SSM's targeting)."""
        ids = list(inputs.get("InstanceIds") or [])
        if ids:
            found = {
                i["InstanceId"]
                for i in self.managed(account, region, [{"Key": "InstanceIds", "Values": ids}])
                if i.get("PingStatus") == "Online"
            }
            unmanaged = [i for i in ids if i not in found]
            if unmanaged:
                raise CommandFailed(f"InvalidInstanceId: {', '.join(unmanaged)} not a managed instance")
            return ids
        filters = [{"Key": t["Key"], "Values": list(t["Values"])} for t in inputs.get("Targets") or []]
        return sorted(
            i["InstanceId"] for i in self.managed(account, region, filters) if i.get("PingStatus") == "Online"
        )

    def send(self, account: str, region: str, inputs: Mapping[str, Any]) -> CommandRun:
        session = self.emu.session(account, region)
        ids = self.resolve(account, region, inputs)
        parameters = {k: [str(v)] for k, v in (inputs.get("Parameters") or {}).items() if v != ""}
        request: dict[str, Any] = {
            "DocumentName": inputs["DocumentName"],
            "Parameters": parameters,
            "MaxConcurrency": str(inputs.get("MaxConcurrency") or "50"),
            "MaxErrors": str(inputs.get("MaxErrors") or "0"),
        }
        request.update({"InstanceIds": ids} if inputs.get("InstanceIds") else {"Targets": list(inputs["Targets"])})
        for key in ("OutputS3BucketName", "OutputS3KeyPrefix"):
            if inputs.get(key):
                request[key] = inputs[key]
        command_id = session.client("ssm").send_command(**request)["Command"]["CommandId"]
        run = CommandRun(account, region, command_id, str(inputs["DocumentName"]), "Success", ids)
        run.output_bucket = str(inputs.get("OutputS3BucketName") or "")
        self.commands.append(run)
        batch = limit(request["MaxConcurrency"], len(ids), at_least_one=True)
        max_errors = limit(request["MaxErrors"], len(ids), at_least_one=False)
        errors = 0
        for start in range(0, len(ids), batch):
            if errors > max_errors:
                break  # SSM stops sending to more targets once the failures exceed MaxErrors
            for instance_id in ids[start : start + batch]:
                invocation = self._invoke(account, region, instance_id, command_id, inputs)
                run.invocations.append(invocation)
                errors += invocation.status != "Success"
        if errors:
            run.status = "Failed" if errors >= max_errors else "Incomplete"
        return run

    def _invoke(
        self, account: str, region: str, instance_id: str, command_id: str, inputs: Mapping[str, Any]
    ) -> Invocation:
        from devkit.moto_extensions.ssm.models.patch_runs import simulate_patch_run

        parameters = inputs.get("Parameters") or {}
        if inputs["DocumentName"] != PATCH_DOCUMENT:
            return Invocation(instance_id, "Failed", f"the emulated agent runs only {PATCH_DOCUMENT}")
        fail = self.failing.get(instance_id, ())
        state = simulate_patch_run(
            account,
            region,
            [instance_id],
            parameters.get("Operation", "Scan"),
            reboot_option=parameters.get("RebootOption", "RebootIfNeeded"),
            fail=fail,
        )[instance_id]
        invocation = Invocation(instance_id, "Success")
        if state.get("FailedCount", 0):
            invocation = Invocation(instance_id, "Failed", f"{state['FailedCount']} patch(es) failed to install")
        bucket = inputs.get("OutputS3BucketName")
        if bucket:
            key = (
                f"{inputs.get('OutputS3KeyPrefix', '')}/{command_id}/{instance_id}/awsrunShellScript/PatchLinux/stdout"
            )
            self._upload(account, region, instance_id, bucket, key, invocation)
        return invocation

    def _upload(
        self, account: str, region: str, instance_id: str, bucket: str, key: str, invocation: Invocation
    ) -> None:
        """The agent's upload, with the instance's role (its profile's first role)."""
        from devkit.moto_extensions.ssm.models.patching import managed_instances

        info = next(i for i in managed_instances(account, region) if i["InstanceId"] == instance_id)
        iam = self.emu.session(account, region).client("iam")
        if not role_allows(iam, info["IamRole"], "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}"):
            self.commands[-1].not_written.append(
                f"{instance_id}: role {info['IamRole']} may not write s3://{bucket}/{key}"
            )
            return
        hub = self._bucket_owner(bucket)
        body = b"Patch operation completed\n" if invocation.status == "Success" else f"{invocation.reason}\n".encode()
        self.emu.session(hub, region).client("s3").put_object(Bucket=bucket, Key=key, Body=body)
        invocation.output_key = key

    def _bucket_owner(self, bucket: str) -> str:
        from moto.s3.models import s3_backends

        for account_id, backends in s3_backends.items():
            if bucket in backends["global"].buckets:
                return str(account_id)
        raise CommandFailed(f"NoSuchBucket: {bucket}")
