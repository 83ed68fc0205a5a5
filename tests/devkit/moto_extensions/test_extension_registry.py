"""``devkit.moto_extensions.install()`` finds every service package, their operations answer
through boto3, and applying a package again changes nothing (no wrapper wrapped twice)."""

from __future__ import annotations

import importlib
import pkgutil

from moto.ssm.responses import SimpleSystemManagerResponse

import devkit.moto_extensions as extensions
from devkit.moto_extensions.ssm.responses import SsmExtensionResponse
from tests import aws

SERVICES = {"autoscaling", "awslambda", "cloudformation", "ec2", "events", "ssm", "stepfunctions"}


def test_every_service_package_is_discovered_and_answers(moto_aws: None) -> None:
    names = {m.name for m in pkgutil.iter_modules(extensions.__path__) if m.ispkg}
    assert names == SERVICES
    sess = aws.session(aws.ACCOUNTS[0], aws.REGIONS[0])
    assert sess.client("ssm").describe_instance_information()["InstanceInformationList"] == []
    assert sess.client("ssm").list_resource_data_sync()["ResourceDataSyncItems"] == []
    assert sess.client("ssm").list_compliance_summaries()["ComplianceSummaryItems"] == []
    assert sess.client("ssm").list_associations()["Associations"] == []


def test_applying_every_package_again_keeps_one_layer(moto_aws: None) -> None:
    """Each package's own install() run a second time (past the top-level flag, as a second
    importer would): copied operations are the extension's functions, and the patch-baseline
    wrapper still wraps moto's own operation, not the previous wrapper."""
    moto_create = SimpleSystemManagerResponse.create_patch_baseline._moto_original  # type: ignore[attr-defined]
    for name in sorted(SERVICES):
        importlib.import_module(f"{extensions.__name__}.{name}").install()
    assert SimpleSystemManagerResponse.create_patch_baseline._moto_original is moto_create  # type: ignore[attr-defined]
    assert not hasattr(moto_create, "_moto_original")  # moto's function, not one of ours
    assert (
        SimpleSystemManagerResponse.describe_instance_information
        is vars(SsmExtensionResponse)["describe_instance_information"]
    )
    # and the wrapped operation still runs moto's create exactly once
    ssm = aws.session(aws.ACCOUNTS[0], aws.REGIONS[0]).client("ssm")
    created = ssm.create_patch_baseline(Name="once", OperatingSystem="AMAZON_LINUX_2023")["BaselineId"]
    baselines = ssm.describe_patch_baselines(Filters=[{"Key": "NAME_PREFIX", "Values": ["once"]}])["BaselineIdentities"]
    assert [b["BaselineId"] for b in baselines] == [created]
