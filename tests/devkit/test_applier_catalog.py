"""Service Catalog on the applier, as the real service behaves: a launch constraint's LocalRoleName must exist in
the account creating it (issue 12 item 2), and a new template version is a provisioning artifact added to the same
product (issue 12 item 13)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest

from components import naming
from components.config import CatalogConfig
from components.hub.self_service_catalog import TEMPLATE_FILE, SelfServiceCatalog, SelfServiceCatalogArgs
from devkit.applier.engine import ApplyingMocks, run_program
from devkit.emulator import Emulator
from tests.pulumi_leftovers import collect_failed_program_leftovers

ACCOUNT, REGION = "555555555555", "us-east-1"


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def apply_program(emu: Emulator, declare: Any, stack: str) -> ApplyingMocks:
    mocks = ApplyingMocks(emu, default_account=ACCOUNT)

    def build() -> None:
        provider = aws.Provider("p", region=REGION, allowed_account_ids=[ACCOUNT])
        declare(pulumi.ResourceOptions(provider=provider))

    try:
        run_program(build, mocks, stack)
    finally:
        collect_failed_program_leftovers()
    return mocks


def product_in_portfolio(name: str, opts: pulumi.ResourceOptions) -> tuple[Any, Any, Any]:
    portfolio = aws.servicecatalog.Portfolio(f"{name}-portfolio", name=name, provider_name="t", opts=opts)
    product = aws.servicecatalog.Product(
        f"{name}-product",
        name=name,
        owner="t",
        type="CLOUD_FORMATION_TEMPLATE",
        provisioning_artifact_parameters=aws.servicecatalog.ProductProvisioningArtifactParametersArgs(
            template_url="https://example-bucket.s3.amazonaws.com/t.yaml", type="CLOUD_FORMATION_TEMPLATE"
        ),
        opts=opts,
    )
    association = aws.servicecatalog.ProductPortfolioAssociation(
        f"{name}-association", portfolio_id=portfolio.id, product_id=product.id, opts=opts
    )
    return portfolio, product, association


def test_a_launch_constraint_naming_a_role_missing_in_the_account_is_refused(emu: Emulator) -> None:
    """The emulator's CreateConstraint (the offline mocks refuse such a program before it reaches the emulator)."""
    from botocore.exceptions import ClientError

    from devkit.applier import moto_gaps

    moto_gaps.install()  # what the applier installs before it deploys
    catalog = emu.session(ACCOUNT, REGION).client("servicecatalog")
    portfolio = catalog.create_portfolio(DisplayName="missing-role", ProviderName="t", IdempotencyToken="p")
    product = catalog.create_product(
        Name="missing-role",
        Owner="t",
        ProductType="CLOUD_FORMATION_TEMPLATE",
        ProvisioningArtifactParameters={"Info": {"LoadTemplateFromURL": "https://b.s3.amazonaws.com/t.yaml"}},
        IdempotencyToken="q",
    )
    ids = {
        "PortfolioId": portfolio["PortfolioDetail"]["Id"],
        "ProductId": product["ProductViewDetail"]["ProductViewSummary"]["ProductId"],
    }
    catalog.associate_product_with_portfolio(**ids)
    launch = {"Type": "LAUNCH", "Parameters": json.dumps({"LocalRoleName": "role-only-in-children"})}
    with pytest.raises(ClientError, match="role-only-in-children does not exist in account 555555555555"):
        catalog.create_constraint(**ids, **launch, IdempotencyToken="c1")
    emu.session(ACCOUNT, REGION).client("iam").create_role(
        RoleName="role-only-in-children",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )
    assert catalog.create_constraint(**ids, **launch, IdempotencyToken="c2")["Status"] == "AVAILABLE"


def test_the_catalog_component_creates_its_constraint_and_a_new_template_is_a_new_artifact(
    emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hub's component deploys (its launch role makes the constraint valid); then what ``pulumi up`` does for a
    changed template — the product untouched (ignore_changes), one new ProvisioningArtifact — lands on the same
    product."""
    kms = emu.session(ACCOUNT, REGION).client("kms").create_key()["KeyMetadata"]["Arn"]
    created: dict[str, Any] = {}

    def first(opts: pulumi.ResourceOptions) -> None:
        catalog = SelfServiceCatalog(
            "catalog",
            SelfServiceCatalogArgs(
                catalog=CatalogConfig(), org_id="o-exampleorg01", kms_key_arn=kms, account_id=ACCOUNT
            ),
            opts=opts,
        )
        catalog.product.id.apply(lambda value: created.setdefault("product", value))

    apply_program(emu, first, "catalog-v1")
    catalog = emu.session(ACCOUNT, REGION).client("servicecatalog")
    [constraint] = catalog.list_constraints_for_portfolio(
        PortfolioId=catalog.list_portfolios_for_product(ProductId=created["product"])["PortfolioDetails"][0]["Id"]
    )["ConstraintDetails"]
    assert constraint["Type"] == "LAUNCH"
    role = emu.session(ACCOUNT, REGION).client("iam").get_role(RoleName=naming.CATALOG_LAUNCH_ROLE)["Role"]
    assert role["RoleName"] == naming.CATALOG_LAUNCH_ROLE

    changed = tmp_path / "maintenance_window_product.yaml"
    changed.write_text(TEMPLATE_FILE.read_text() + "\n# version 2\n")
    monkeypatch.setattr("components.hub.self_service_catalog.TEMPLATE_FILE", changed)

    def update(opts: pulumi.ResourceOptions) -> None:
        from components.hub.self_service_catalog import template_key, template_version

        aws.servicecatalog.ProvisioningArtifact(
            f"catalog-artifact-{template_version(template_key())}",
            product_id=created["product"],
            name=template_version(template_key()),
            type="CLOUD_FORMATION_TEMPLATE",
            template_url="https://example-bucket.s3.amazonaws.com/v2.yaml",
            guidance="DEFAULT",
            active=True,
            opts=opts,
        )

    apply_program(emu, update, "catalog-v2")
    artifacts = catalog.list_provisioning_artifacts(ProductId=created["product"])["ProvisioningArtifactDetails"]
    assert len(artifacts) == 3  # the initial one, version 1 and version 2: one product throughout
    assert catalog.describe_product(Id=created["product"])["ProductViewSummary"]["ProductId"] == created["product"]
