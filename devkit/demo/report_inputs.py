"""What the demo's report gets beside the bucket: account names, and an EC2-versus-SSM listing of unmanaged instances.

Why from the emulator's APIs and not from the demo's own lists: the report's inputs in real use are
``aws organizations list-accounts`` output (``--accounts``) and, for the instances SSM does not manage, the tag
sweeps' findings in the lake (or an EC2-versus-SSM comparison passed as ``--unmanaged``); the demo reads the lake
and keeps :func:`unmanaged_instances` as the independent comparison, so a change in what the fleet holds (an
instance without a profile, an account renamed) shows in the report with no second list to keep.
"""

from __future__ import annotations

from typing import Any

from devkit.demo.world import World
from devkit.emulator import Emulator


def list_accounts(emu: Emulator, world: World) -> dict[str, Any]:
    """``organizations list-accounts`` output of the management account (the hub, in the demo)."""
    org = emu.session(world.hub_account, world.home_region).client("organizations")
    accounts: list[dict[str, Any]] = []
    for page in org.get_paginator("list_accounts").paginate():
        accounts.extend({"Id": a["Id"], "Name": a["Name"]} for a in page["Accounts"])
    return {"Accounts": accounts}


def unmanaged_instances(emu: Emulator, world: World) -> list[dict[str, Any]]:
    """EC2 instances (not terminated) that are not SSM managed nodes, per account and region."""
    found: list[dict[str, Any]] = []
    for account, region in world.locations:
        session = emu.session(account, region)
        managed: set[str] = set()
        for page in session.client("ssm").get_paginator("describe_instance_information").paginate():
            managed.update(info["InstanceId"] for info in page["InstanceInformationList"])
        ec2 = session.client("ec2")
        filters = [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
        for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
            for reservation in page["Reservations"]:
                for instance in reservation["Instances"]:
                    if instance["InstanceId"] in managed:
                        continue
                    reason = "no instance profile" if "IamInstanceProfile" not in instance else "agent not reporting"
                    found.append(
                        {
                            "accountid": account,
                            "region": region,
                            "resourceid": instance["InstanceId"],
                            "reason": reason,
                            "tags": {tag["Key"]: tag.get("Value", "") for tag in instance.get("Tags", [])},
                        }
                    )
    return found
