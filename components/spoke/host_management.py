"""``HostManagement``: what makes every instance of a child account visible to Patch Manager, daily.

* **The daily patch scan** (``patching.patchScan``, on by default): one State Manager association per
  account-region running ``AWS-RunPatchBaseline`` with ``Operation=Scan`` and ``RebootOption=NoReboot`` on every
  managed instance (``InstanceIds=*``), with the shard's ``BaselineOverride`` file, so compliance is at most a day
  old and a newly enrolled instance reports before its first maintenance window. An association runs when it is
  created and when an instance starts matching it, then on its schedule.
* **Default Host Management Configuration** (``patching.defaultHostManagement``, on by default): the SSM service
  setting ``/ssm/managed-instance/default-ec2-instance-management-role`` in every account-region names the
  account's patching instance role ``org-patching-instance`` (``AccountBaseline``: it then trusts SSM too, and has
  ``AmazonSSMManagedInstanceCore``, which holds every permission of the DHMC policy
  ``AmazonSSMManagedEC2InstanceDefaultPolicy``), so SSM manages instances that have no instance profile (IMDSv2 and
  a recent agent required), and they write their command output and read the org's BaselineOverride like every
  patched instance (the DHMC policy alone allows neither). One role instead of two saves a role and its
  attachment per account (the resource budget). Source: AWS Systems Manager User Guide, "Managing EC2 instances
  with Default Host Management Configuration" (the role needs the DHMC policy "or equivalent permissions"); the
  setting's id and value: SSM API reference, UpdateServiceSetting ("SettingValue: the name of an IAM role").

Its own component (not part of ``RegionalSpoke``) so the spoke's resources and URNs stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from .. import naming
from ..config import PatchingConfig


@dataclass
class HostManagementArgs:
    account_id: str
    partition: str
    regions: Sequence[str]
    patching: PatchingConfig
    #: The shard's override file (``s3://``), or ``None`` when the accounts keep their own baselines.
    baseline_override: pulumi.Input[str] | None = None
    #: The account's patching instance role, by name (``AccountBaseline.instance_role_ready``): DHMC's role.
    instance_role: pulumi.Input[str] = naming.INSTANCE_ROLE


def setting_arn(partition: str, region: str, account_id: str) -> str:
    """The DHMC service setting's id (an ARN: ``UpdateServiceSetting``'s ``SettingId``)."""
    return f"arn:{partition}:ssm:{region}:{account_id}:servicesetting{naming.DEFAULT_HOST_MANAGEMENT_SETTING}"


class HostManagement(pulumi.ComponentResource):
    settings: dict[str, aws.ssm.ServiceSetting]
    scans: dict[str, aws.ssm.Association]

    def __init__(self, name: str, args: HostManagementArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:spoke:HostManagement", name, None, opts)
        here = pulumi.ResourceOptions(parent=self)
        self.settings, self.scans = {}, {}
        if args.patching.default_host_management.enabled:
            self._default_host_management(name, args, here)
        if args.patching.patch_scan.enabled:
            for region in args.regions:
                self.scans[region] = self._scan(name, region, args, here)
        self.register_outputs({})

    def _default_host_management(self, name: str, args: HostManagementArgs, here: pulumi.ResourceOptions) -> None:
        for region in args.regions:
            self.settings[region] = aws.ssm.ServiceSetting(
                f"{name}-{region}-dhmc",
                setting_id=setting_arn(args.partition, region, args.account_id),
                # the role's name (path included when it has one): ours is at the root path
                setting_value=args.instance_role,
                region=region,
                opts=here,
            )

    def _scan(
        self, name: str, region: str, args: HostManagementArgs, here: pulumi.ResourceOptions
    ) -> aws.ssm.Association:
        parameters: dict[str, pulumi.Input[str]] = {"Operation": "Scan", "RebootOption": "NoReboot"}
        if args.baseline_override is not None:
            parameters["BaselineOverride"] = args.baseline_override
        return aws.ssm.Association(
            f"{name}-{region}-patch-scan",
            association_name=naming.PATCH_SCAN_ASSOCIATION,
            name="AWS-RunPatchBaseline",
            schedule_expression=args.patching.patch_scan.schedule,
            # Every managed instance: a scan changes nothing on the instance, and exempt ones report too.
            targets=[aws.ssm.AssociationTargetArgs(key="InstanceIds", values=["*"])],
            parameters=parameters,
            max_concurrency="10%",
            max_errors="10%",
            region=region,
            opts=here,
        )
