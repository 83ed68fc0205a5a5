"""``SelfServiceCatalog`` rendered under Pulumi's mocks: portfolio, product from the template
file in an org-readable encrypted bucket, launch constraint, TagOptions, shares, principals."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components import naming
from components.config import CentralConfig
from components.hub.self_service_catalog import (
    PRODUCT_NAME,
    TEMPLATE_FILE,
    SelfServiceCatalog,
    SelfServiceCatalogArgs,
    template_key,
)
from patchctl.offline.render import Capture, render

HUB = "999999999999"
ORG = "o-exampleorg01"
OU = "ou-ab12-abcdefgh"
KEY = f"arn:aws:kms:eu-west-1:{HUB}:key/1234"


def build(**catalog: Any) -> Capture:
    cfg = CentralConfig.model_validate(
        {
            "stack": "central",
            "org_id": ORG,
            "central_account_id": HUB,
            "home_region": "eu-west-1",
            "accounts": ["111111111111"],
            "bootstrap": {"enabled": False},  # tested in test_deploy_role_bootstrap.py
            "catalog": catalog,
        }
    )

    def program() -> SelfServiceCatalog:
        hub = aws.Provider(HUB, region="eu-west-1", allowed_account_ids=[HUB])
        return SelfServiceCatalog(
            "catalog", SelfServiceCatalogArgs(config=cfg, kms_key_arn=KEY), opts=pulumi.ResourceOptions(providers=[hub])
        )

    return render(program)


@pytest.fixture(scope="module")
def capture() -> Capture:
    return build()


def test_product_is_the_template_file_from_the_encrypted_bucket(capture: Capture) -> None:
    obj = capture.one("aws:s3/bucketObjectv2:BucketObjectv2")
    assert obj.inputs["key"] == template_key()
    assert obj.inputs["key"].startswith("service-catalog/maintenance-window/")
    assert obj.inputs["serverSideEncryption"] == "aws:kms" and obj.inputs["kmsKeyId"] == KEY
    product = capture.one("aws:servicecatalog/product:Product").inputs
    assert product["name"] == PRODUCT_NAME
    artifact = product["provisioningArtifactParameters"]
    bucket = capture.one("aws:s3/bucket:Bucket", "catalog-artifacts").outputs["bucket"]
    assert artifact["templateUrl"] == f"https://{bucket}.s3.eu-west-1.amazonaws.com/{template_key()}"
    assert artifact["type"] == "CLOUD_FORMATION_TEMPLATE"
    # a different template is a different object (and artifact name): no stale version is served
    assert template_key(TEMPLATE_FILE.read_text() + "\n# changed") != template_key()


def test_bucket_is_secure_and_org_readable_for_templates_only(capture: Capture) -> None:
    encryption = capture.one("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
    rule = encryption.inputs["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": KEY}
    block = capture.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    statements = json.loads(capture.one("aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])["Statement"]
    sids = {s.get("Sid"): s for s in statements}
    assert "DenyInsecureTransport" in sids
    read = sids["OrganizationReadsProductTemplates"]
    assert read["Action"] == ["s3:GetObject"]
    assert read["Resource"][0].endswith("/service-catalog/maintenance-window/*")
    assert read["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG}}


def test_launch_constraint_uses_the_spokes_role_by_name(capture: Capture) -> None:
    constraint = capture.one("aws:servicecatalog/constraint:Constraint").inputs
    assert constraint["type"] == "LAUNCH"
    assert json.loads(constraint["parameters"]) == {"LocalRoleName": naming.CATALOG_LAUNCH_ROLE}
    portfolio = capture.one("aws:servicecatalog/portfolio:Portfolio")
    product = capture.one("aws:servicecatalog/product:Product")
    assert constraint["portfolioId"] == portfolio.id and constraint["productId"] == product.id
    association = capture.one("aws:servicecatalog/productPortfolioAssociation:ProductPortfolioAssociation").inputs
    assert (association["portfolioId"], association["productId"]) == (portfolio.id, product.id)


def test_tag_options_are_attached_to_the_portfolio(capture: Capture) -> None:
    [option] = capture.of_type("aws:servicecatalog/tagOption:TagOption")
    assert (option.inputs["key"], option.inputs["value"]) == ("managed-by", "org-patching-catalog")
    [link] = capture.of_type("aws:servicecatalog/tagOptionResourceAssociation:TagOptionResourceAssociation")
    assert link.inputs["tagOptionId"] == option.id
    assert link.inputs["resourceId"] == capture.one("aws:servicecatalog/portfolio:Portfolio").id


def test_shared_with_the_organization_with_principal_sharing(capture: Capture) -> None:
    [share] = capture.of_type("aws:servicecatalog/portfolioShare:PortfolioShare")
    assert share.inputs["type"] == "ORGANIZATION" and share.inputs["principalId"] == ORG
    assert share.inputs["sharePrincipals"] is True and share.inputs["shareTagOptions"] is True
    [principal] = capture.of_type("aws:servicecatalog/principalPortfolioAssociation:PrincipalPortfolioAssociation")
    assert principal.inputs["principalType"] == "IAM_PATTERN"
    assert principal.inputs["principalArn"] == "arn:aws:iam:::role/OrganizationAccountAccessRole"


def test_shared_with_ous_only_when_configured() -> None:
    capture = build(
        share_with_organization=False, share_with_ous=[OU], principal_role_names=["AppTeamAdmin", "PlatformOps"]
    )
    shares = capture.of_type("aws:servicecatalog/portfolioShare:PortfolioShare")
    assert [(s.inputs["type"], s.inputs["principalId"]) for s in shares] == [("ORGANIZATIONAL_UNIT", OU)]
    principals = capture.of_type("aws:servicecatalog/principalPortfolioAssociation:PrincipalPortfolioAssociation")
    assert sorted(p.inputs["principalArn"] for p in principals) == [
        "arn:aws:iam:::role/AppTeamAdmin",
        "arn:aws:iam:::role/PlatformOps",
    ]


def test_every_resource_is_a_child_on_the_hub_provider(capture: Capture) -> None:
    component = capture.one("org-patching:hub:SelfServiceCatalog")
    for record in capture.descendants_of(component.urn):
        if record.custom:
            assert record.provider_urn.endswith(f"pulumi:providers:aws::{HUB}"), record.urn
