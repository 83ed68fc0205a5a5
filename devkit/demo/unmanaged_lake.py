"""Demo step of issue 15.4: the deployed sweep writes the instances SSM does not manage into the hub's lake.

An app team launches an instance with its own instance profile whose role lacks ``AmazonSSMManagedInstanceCore``:
SSM never manages it, so it reaches no inventory file. The sweep function the child stack deployed (its role, its
environment: ``lambda_src/lambda_shared/unmanaged_findings.py``) is then invoked as its schedule invokes it, in
every account and region: each account-region puts one object under ``unmanaged/`` of the hub's inventory bucket.
With ``appProfiles: report`` (the default) the instance is only reported; the report step reads the lake and
counts it as unmanaged, with no ``--unmanaged`` file. Every figure is read back from the emulator's S3.
"""

from __future__ import annotations

import json
from typing import Any

from components import naming
from devkit.demo.narrative import Narrator
from devkit.demo.world import AMI, World
from devkit.emulator import Emulator

#: The app team's own profile (and role): EC2 may assume it, but it holds no SSM permission.
APP_PROFILE = "payments-batch"
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def scheduled(account: str, region: str) -> dict[str, Any]:
    """What the sweep rule delivers (``components/spoke/tag_compliance.py`` ``sweep_event``)."""
    return {
        "version": "0",
        "id": f"demo-lake-{account}-{region}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/{naming.SWEEP_RULE}"],
        "detail": {},
    }


def launch_unmanaged(emu: Emulator, account: str, region: str) -> str:
    """The app team's instance: its own profile, no SSM permissions (not the first location: the freeze's)."""
    session = emu.session(account, region)
    iam = session.client("iam")
    iam.create_role(RoleName=APP_PROFILE, AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    iam.create_instance_profile(InstanceProfileName=APP_PROFILE)
    iam.add_role_to_instance_profile(InstanceProfileName=APP_PROFILE, RoleName=APP_PROFILE)
    launched = session.client("ec2").run_instances(
        ImageId=AMI,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.micro",
        IamInstanceProfile={"Name": APP_PROFILE},
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "environment", "Value": "Test"}]}],
    )
    return str(launched["Instances"][0]["InstanceId"])


def step_unmanaged_lake(emu: Emulator, world: World, say: Narrator) -> dict[str, Any]:
    """Launch the unmanaged instance, invoke the deployed sweep everywhere, list what landed in the lake."""
    account, region = world.locations[1]
    instance = launch_unmanaged(emu, account, region)
    say.fact(f"an app team in {account}/{region} launched {instance} with its own profile {APP_PROFILE} (no SSM)")
    home = world.home_region if world.home_region in world.regions else world.regions[0]
    found: dict[str, str] = {}
    written: list[str] = []
    errors: list[Any] = []
    for swept_account, swept_region in world.locations:
        answer = (
            emu.session(swept_account, home)
            .client("lambda")
            .invoke(
                FunctionName=naming.TAG_REMEDIATION_FUNCTION,
                Payload=json.dumps(scheduled(swept_account, swept_region)),
            )
        )
        result = json.loads(answer["Payload"].read())
        if "FunctionError" in answer:
            errors.append(f"{swept_account}/{swept_region}: {result}")
            continue
        found.update({u["resourceid"]: u["reason"] for u in result.get("unmanaged", [])})
        written += [result["unmanagedLake"]] if result.get("unmanagedLake") else []
        errors += result["errors"]
    for resource, reason in sorted(found.items()):
        say.fact(f"unmanaged: {resource}: {reason}")
    for error in errors:
        say.fact(f"FAILED {error}")
    s3 = emu.session(world.hub_account, world.home_region).client("s3")
    listed = s3.list_objects_v2(Bucket=world.inventory_bucket, Prefix=f"{naming.UNMANAGED_PREFIX}/")
    keys = sorted(item["Key"] for item in listed.get("Contents", []))
    say.fact(
        f"{len(keys)} objects in s3://{world.inventory_bucket}/{naming.UNMANAGED_PREFIX}/ "
        f"(one per account-region and day), e.g. {keys[0] if keys else 'none'}"
    )
    return {"instance": instance, "found": found, "written": written, "keys": keys, "errors": errors}
