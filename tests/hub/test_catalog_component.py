"""``SelfServiceCatalog`` rendered under Pulumi's mocks: portfolio, product from the template
file in an org-readable encrypted bucket, launch constraint, TagOptions, shares, principals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components import naming
from components.config import CatalogConfig
from components.hub.self_service_catalog import (
    TEMPLATE_FILE,
    SelfServiceCatalog,
    SelfServiceCatalogArgs,
    product_template_text,
    template_key,
)
from patchctl.offline.render import Capture, render

HUB = "999999999999"
ORG = "o-exampleorg01"
OU = "ou-ab12-abcdefgh"
KEY = f"arn:aws:kms:eu-west-1:{HUB}:key/1234"


def build(**catalog: Any) -> Capture:
    cfg = CatalogConfig.model_validate(catalog)

    def program() -> SelfServiceCatalog:
        hub = aws.Provider(HUB, region="eu-west-1", allowed_account_ids=[HUB])
        return SelfServiceCatalog(
            "catalog",
            SelfServiceCatalogArgs(catalog=cfg, org_id=ORG, kms_key_arn=KEY, account_id=HUB),
            opts=pulumi.ResourceOptions(providers=[hub]),
        )

    return render(program)


@pytest.fixture(scope="module")
def capture() -> Capture:
    return build()


def test_product_is_the_template_file_from_the_encrypted_bucket(capture: Capture) -> None:
    obj = capture.one("aws:s3/bucketObjectv2:BucketObjectv2")
    # the file with the central account filled in (the tasks run its shared runbooks by ARN)
    assert obj.inputs["content"] == product_template_text(HUB)
    assert "<<hub_account>>" not in obj.inputs["content"] and f":{HUB}:" not in TEMPLATE_FILE.read_text()
    assert obj.inputs["key"] == template_key(product_template_text(HUB))
    assert obj.inputs["key"].startswith("service-catalog/maintenance-window/")
    assert obj.inputs["serverSideEncryption"] == "aws:kms" and obj.inputs["kmsKeyId"] == KEY
    product = capture.one("aws:servicecatalog/product:Product").inputs
    assert product["name"] == naming.CATALOG_PRODUCT
    artifact = capture.one("aws:servicecatalog/provisioningArtifact:ProvisioningArtifact").inputs
    bucket = capture.one("aws:s3/bucket:Bucket", "catalog-artifacts").outputs["bucket"]
    assert artifact["templateUrl"] == f"https://{bucket}.s3.eu-west-1.amazonaws.com/{obj.inputs['key']}"
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


def test_hub_holds_the_launch_roles_name_without_permissions(capture: Capture) -> None:
    """CreateConstraint needs the LocalRoleName in the hub too; the hub's copy can do nothing (no launches there)."""
    [role] = capture.of_type("aws:iam/role:Role")
    assert role.inputs["name"] == naming.CATALOG_LAUNCH_ROLE
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "servicecatalog.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": HUB}}
    assert not role.inputs.get("inlinePolicies") and not role.inputs.get("managedPolicyArns")
    assert not capture.of_type("aws:iam/rolePolicy:RolePolicy")
    assert not capture.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    constraint = capture.one("aws:servicecatalog/constraint:Constraint")
    assert role.urn in constraint.dependencies


def test_a_changed_template_is_a_new_artifact_of_the_same_product(
    capture: Capture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The product's artifact parameters are ForceNew in the provider: they are ignored after creation, and each
    template version is its own ProvisioningArtifact (keyed by content hash), retained when superseded."""
    changed = tmp_path / "maintenance_window_product.yaml"
    changed.write_text(TEMPLATE_FILE.read_text() + "\n# a later version\n")
    monkeypatch.setattr("components.hub.self_service_catalog.TEMPLATE_FILE", changed)
    later = build()
    before, after = (c.one("aws:servicecatalog/product:Product") for c in (capture, later))
    assert before.urn == after.urn
    assert "provisioningArtifactParameters" in before.ignore_changes
    # everything but the ignored (ForceNew) input is the same: pulumi up updates nothing on the product
    same = {k: v for k, v in before.inputs.items() if k != "provisioningArtifactParameters"}
    assert same == {k: v for k, v in after.inputs.items() if k != "provisioningArtifactParameters"}
    old_artifact, new_artifact = (
        c.one("aws:servicecatalog/provisioningArtifact:ProvisioningArtifact") for c in (capture, later)
    )
    assert old_artifact.urn != new_artifact.urn  # a new resource: CreateProvisioningArtifact on the product
    assert new_artifact.inputs["productId"] == after.id
    uploaded = product_template_text(HUB, changed.read_text())
    assert new_artifact.inputs["name"] == template_key(uploaded).rsplit("/", 1)[1].removesuffix(".yaml")
    assert new_artifact.inputs["guidance"] == "DEFAULT" and new_artifact.inputs["active"] is True


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


def test_the_mocks_refuse_a_constraint_whose_role_the_account_lacks() -> None:
    """The rendered stack fails like CreateConstraint would (patchctl/offline/catalog_rules.py): a constraint
    naming LocalRoleName without that role in the hub, the state before the hub's role existed."""
    from patchctl.offline.catalog_rules import constraint_refusal

    inputs = {"type": "LAUNCH", "parameters": json.dumps({"LocalRoleName": naming.CATALOG_LAUNCH_ROLE})}
    assert constraint_refusal(inputs, HUB, set()) is not None
    assert constraint_refusal(inputs, HUB, {naming.CATALOG_LAUNCH_ROLE}) is None
    assert constraint_refusal({**inputs, "type": "NOTIFICATION"}, HUB, set()) is None

    def program() -> None:
        hub = aws.Provider(HUB, region="eu-west-1", allowed_account_ids=[HUB])
        opts = pulumi.ResourceOptions(provider=hub)
        portfolio = aws.servicecatalog.Portfolio("p", name="p", provider_name="t", opts=opts)
        aws.servicecatalog.Constraint(
            "launch",
            portfolio_id=portfolio.id,
            product_id="prod-1",
            type="LAUNCH",
            parameters=inputs["parameters"],
            opts=opts,
        )

    from tests.pulumi_leftovers import collect_failed_program_leftovers

    try:
        with pytest.raises(Exception, match="is not a role of account 999999999999"):
            render(program)
    finally:
        collect_failed_program_leftovers()
