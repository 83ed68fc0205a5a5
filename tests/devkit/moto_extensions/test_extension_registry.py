"""``devkit.moto_extensions.install()`` finds every service package and their operations answer through boto3."""

from __future__ import annotations

import pkgutil

import devkit.moto_extensions as extensions
from tests import aws

SERVICES = {"autoscaling", "awslambda", "ec2", "events", "ssm"}


def test_every_module_of_this_area_is_discovered_and_installable_twice(moto_aws: None) -> None:
    names = {m.name for m in pkgutil.iter_modules(extensions.__path__) if m.ispkg}
    assert names == SERVICES
    extensions.install()  # idempotent: the fixture already installed everything
    sess = aws.session(aws.ACCOUNTS[0], aws.REGIONS[0])
    assert sess.client("ssm").describe_instance_information()["InstanceInformationList"] == []
    assert sess.client("ssm").list_resource_data_sync()["ResourceDataSyncItems"] == []
    assert sess.client("ssm").list_compliance_summaries()["ComplianceSummaryItems"] == []
    assert sess.client("ssm").list_associations()["Associations"] == []
