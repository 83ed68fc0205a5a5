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
from devkit.applier.errors import ResourceCreateFailed
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
    def declare(opts: pulumi.ResourceOptions) -> None:
        portfolio, product, association = product_in_portfolio("missing-role", opts)
        aws.servicecatalog.Constraint(
            "constraint",
            portfolio_id=portfolio.id,
            product_id=product.id,
            type="LAUNCH",
            parameters=json.dumps({"LocalRoleName": "role-only-in-children"}),
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[association])),
        )

    with pytest.raises(ResourceCreateFailed, match="role-only-in-children does not exist in account 555555555555"):
        apply_program(emu, declare, "missing-role")


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
