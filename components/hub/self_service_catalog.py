"""``SelfServiceCatalog``: app teams pick their own patching window, without a ticket.

A portfolio with one product, "Patching maintenance window", whose CloudFormation template
(``maintenance_window_product.yaml``, beside this file) creates ``<Env>_<team>_maintenance_window``
with its target and AUTOMATION tasks and calls the window-tagging Lambda through a custom
resource. What the seed left to the console is declared here: the launch constraint, the
TagOptions, the share to the organization (or OUs) with principal sharing, and the
principal association by name pattern.

The template reaches Service Catalog through an artifacts bucket in the hub (SSE-KMS with the
given key, TLS-only, public access blocked, versioned). Service Catalog reads the template
with the credentials of whoever creates or updates the product (the hub's deploy role); the
bucket policy additionally lets principals of the organization read the templates only, so a
member-account admin can inspect or re-import a version. The object key carries the
template's content hash, so every change is a new object and a new provisioning artifact.

What every child account must provide (created by the spoke's ``AccountBaseline``):

``CATALOG_LAUNCH_ROLE`` (``org-patching-catalog-launch``), the launch constraint's
``LocalRoleName``. Service Catalog assumes it in the launching account, so end users need no
SSM or Lambda rights. Trust: ``servicecatalog.amazonaws.com`` with ``aws:SourceAccount`` = that
account. Permissions: ``components/spoke/baseline_policies.py`` (``catalog_launch``), derived from
every call a launch, an update and a termination make, and replayed against the rendered policy
(``tests/spoke/test_catalog_launch_policy.py``). The hub holds a role of the same name without
permissions (:func:`hub_launch_role`), because CreateConstraint needs the name there too.

Template versions: the product is created once with its first template; each template version
is a ``ProvisioningArtifact`` of that product, keyed by the template's content hash, so a changed
template never replaces the product (its provisioning-artifact input is ForceNew in the provider).

The window tasks also need ``MAINTENANCE_WINDOW_ROLE`` (the tasks' service role, trusted by
``ssm.amazonaws.com``, allowed to pass ``AUTOMATION_EXECUTION_ROLE``, which the runbooks
assume: that role must trust ``ssm.amazonaws.com`` from its own account too), the runbooks
``RUNBOOK_STANDALONE``/``RUNBOOK_ASG`` (parameters ``MaintenanceWindow``, ``Operation``,
``RebootOption``/``MinHealthyPercentage``, ``InstallOverrideList``, ``MaxConcurrency``,
``MaxErrors``), and ``WINDOW_TAGGING_FUNCTION`` handling the custom resource's
``Environment``, ``Team``, ``WindowId``, ``WindowName`` and ``IncludeASG`` properties
(Create/Update/Delete; teams: docs/teams.md).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import naming
from ..config import CatalogConfig
from ..policy_documents import allow
from ..secure_bucket import SecureBucket, SecureBucketArgs

TEMPLATE_FILE = Path(__file__).with_name("maintenance_window_product.yaml")
TEMPLATE_PREFIX = "service-catalog/maintenance-window"
#: TagOptions applied to every provisioned window stack (key -> allowed values).
TAG_OPTIONS: dict[str, tuple[str, ...]] = {"managed-by": ("org-patching-catalog",)}


def hub_launch_role(name: str, account_id: str, opts: pulumi.ResourceOptions) -> aws.iam.Role:
    """The hub's ``CATALOG_LAUNCH_ROLE``: exists so that Service Catalog accepts the launch constraint.

    CreateConstraint with ``LocalRoleName`` needs a role of that name in the account creating the
    constraint as well as in each launching account (botocore ``servicecatalog`` model, documentation
    of ``CreateConstraintInput.Parameters``: "The given role name must exist in the account used to
    create the launch constraint and the account of the user who launches a product with this launch
    constraint"). The central account is never enrolled as a child (``ChildConfig`` refuses it), so
    this is the only role of that name there, and no child stack creates one in the hub.

    It carries no permissions on purpose: the hub runs no window-tagging function and no windows, so a
    launch in the hub fails closed at its first call; a launch in a child uses the child's own role
    (``components/spoke/baseline_policies.py``, ``catalog_launch``).
    """
    return aws.iam.Role(
        f"{name}-hub-launch-role",
        name=naming.CATALOG_LAUNCH_ROLE,
        description="org-patching: name holder for the catalog launch constraint (no permissions in the hub)",
        assume_role_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "servicecatalog.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                    }
                ],
            }
        ),
        max_session_duration=3600,
        opts=opts,
    )


def template_version(key: str) -> str:
    """The version name of a template object key (its content hash)."""
    return key.rsplit("/", 1)[1].removesuffix(".yaml")


#: Where the template names the central account (its ``Hub`` mapping): the owner of the shared runbooks.
HUB_ACCOUNT_PLACEHOLDER = "<<hub_account>>"


def product_template_text(hub_account: str, text: str | None = None) -> str:
    """The template as uploaded: ``TEMPLATE_FILE`` (or ``text``) with the central account filled in, so the tasks
    name the hub's shared runbooks by ARN (``components/shared_runbooks.py``)."""
    body = TEMPLATE_FILE.read_text() if text is None else text
    if not re.fullmatch(r"\d{12}", hub_account):
        raise ValueError(f"product template: the central account id must be 12 digits, got {hub_account!r}")
    if HUB_ACCOUNT_PLACEHOLDER not in body:
        raise ValueError(f"product template: no {HUB_ACCOUNT_PLACEHOLDER} to fill in")
    return body.replace(HUB_ACCOUNT_PLACEHOLDER, hub_account)


def template_key(text: str | None = None) -> str:
    """Object key of the current template: content-addressed, so a change is a new version."""
    body = TEMPLATE_FILE.read_text() if text is None else text
    return f"{TEMPLATE_PREFIX}/{hashlib.sha256(body.encode()).hexdigest()[:16]}.yaml"


@dataclass
class SelfServiceCatalogArgs:
    """The hub account's provider comes through ``opts`` (parent or ``providers``)."""

    catalog: CatalogConfig
    org_id: str
    #: KMS key of the artifacts bucket (the ComplianceLake key: its policy lets the
    #: organization decrypt through S3).
    kms_key_arn: pulumi.Input[str]
    #: The hub account (the launch role's trust names it as ``aws:SourceAccount``).
    account_id: str
    partition: str = "aws"


class SelfServiceCatalog(pulumi.ComponentResource):
    artifacts: SecureBucket
    template: aws.s3.BucketObjectv2
    portfolio: aws.servicecatalog.Portfolio
    product: aws.servicecatalog.Product
    artifact: aws.servicecatalog.ProvisioningArtifact
    association: aws.servicecatalog.ProductPortfolioAssociation
    hub_launch_role: aws.iam.Role
    launch_constraint: aws.servicecatalog.Constraint
    tag_options: list[aws.servicecatalog.TagOption]
    tag_option_associations: list[aws.servicecatalog.TagOptionResourceAssociation]
    shares: list[aws.servicecatalog.PortfolioShare]
    principal_associations: list[aws.servicecatalog.PrincipalPortfolioAssociation]

    def __init__(self, name: str, args: SelfServiceCatalogArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:hub:SelfServiceCatalog", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cfg = args.catalog
        org = args.org_id
        text = product_template_text(args.account_id)
        key = template_key(text)

        self.artifacts = SecureBucket(
            f"{name}-artifacts",
            SecureBucketArgs(
                kms_key_arn=args.kms_key_arn,
                archive_after_days=0,
                # Templates are tiny and referenced by provisioning artifacts for years.
                expire_after_days=3650,
            ),
            statements_for=lambda bucket_arn: [
                allow(
                    ["s3:GetObject"],
                    [pulumi.Output.concat(bucket_arn, f"/{TEMPLATE_PREFIX}/*")],
                    sid="OrganizationReadsProductTemplates",
                    principal={"AWS": "*"},
                    conditions={"StringEquals": {"aws:PrincipalOrgID": org}},
                )
            ],
            opts=child,
        )
        self.template = aws.s3.BucketObjectv2(
            f"{name}-template",
            bucket=self.artifacts.bucket.id,
            key=key,
            content=text,
            content_type="application/x-yaml",
            server_side_encryption="aws:kms",
            kms_key_id=args.kms_key_arn,
            bucket_key_enabled=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.artifacts]),
        )
        self.template_url: pulumi.Output[str] = pulumi.Output.concat(
            "https://", self.artifacts.bucket.bucket_regional_domain_name, "/", self.template.key
        )

        self.portfolio = aws.servicecatalog.Portfolio(
            f"{name}-portfolio",
            name=naming.CATALOG_PORTFOLIO,
            description="org-patching: self-service patching for the organization's accounts",
            provider_name="Cloud platform team (org-patching)",
            opts=child,
        )
        version = template_version(key)
        # The product is created once, with the template of its first deploy. Its
        # provisioning_artifact_parameters are ForceNew in the provider: a changed template would
        # replace the product (new id, every provisioned product stranded), so later changes are
        # ignored here and arrive as a new ProvisioningArtifact of the same product (below).
        self.product = aws.servicecatalog.Product(
            f"{name}-product",
            name=naming.CATALOG_PRODUCT,
            owner="Cloud platform team (org-patching)",
            description=(
                "A maintenance window for one team and environment of this account and Region, with its "
                "targets and patching tasks; tags the team's instances of the environment with the window."
            ),
            type="CLOUD_FORMATION_TEMPLATE",
            provisioning_artifact_parameters=aws.servicecatalog.ProductProvisioningArtifactParametersArgs(
                name=f"initial-{version}",
                description="The template the product was created with (later versions are artifacts of their own)",
                type="CLOUD_FORMATION_TEMPLATE",
                template_url=self.template_url,
            ),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["provisioningArtifactParameters"]),
        )
        # One artifact per template version, keyed by its content hash: a changed template is a new
        # resource (a new artifact, the DEFAULT for new launches), the product keeps its id. The
        # previous version's artifact is retained in Service Catalog when Pulumi drops it, so
        # provisioned products on it keep working until their owners update them.
        self.artifact = aws.servicecatalog.ProvisioningArtifact(
            f"{name}-artifact-{version}",
            product_id=self.product.id,
            name=version,
            description="Template version (content hash of maintenance_window_product.yaml)",
            type="CLOUD_FORMATION_TEMPLATE",
            template_url=self.template_url,
            guidance="DEFAULT",
            active=True,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        self.association = aws.servicecatalog.ProductPortfolioAssociation(
            f"{name}-product-association",
            portfolio_id=self.portfolio.id,
            product_id=self.product.id,
            opts=child,
        )
        self.hub_launch_role = hub_launch_role(name, args.account_id, child)
        self.launch_constraint = aws.servicecatalog.Constraint(
            f"{name}-launch-constraint",
            description="Launch with the org-patching role of the launching account (users need no SSM rights)",
            portfolio_id=self.portfolio.id,
            product_id=self.product.id,
            type="LAUNCH",
            parameters=json.dumps({"LocalRoleName": naming.CATALOG_LAUNCH_ROLE}),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.association, self.hub_launch_role]),
        )

        self.tag_options = []
        self.tag_option_associations = []
        for tag_key, values in TAG_OPTIONS.items():
            for value in values:
                option = aws.servicecatalog.TagOption(
                    f"{name}-tag-{tag_key}-{value}", key=tag_key, value=value, active=True, opts=child
                )
                self.tag_options.append(option)
                self.tag_option_associations.append(
                    aws.servicecatalog.TagOptionResourceAssociation(
                        f"{name}-tag-{tag_key}-{value}",
                        resource_id=self.portfolio.id,
                        tag_option_id=option.id,
                        opts=child,
                    )
                )

        share_targets: list[tuple[str, str]] = []
        if cfg.share_with_organization:
            share_targets.append(("ORGANIZATION", org))
        share_targets += [("ORGANIZATIONAL_UNIT", ou) for ou in cfg.share_with_ous]
        self.shares = [
            aws.servicecatalog.PortfolioShare(
                f"{name}-share-{principal}",
                portfolio_id=self.portfolio.id,
                type=share_type,
                principal_id=principal,
                share_principals=True,
                share_tag_options=True,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.launch_constraint]),
            )
            for share_type, principal in share_targets
        ]
        # IAM_PATTERN: the account part of the ARN is empty on purpose, so the role name
        # matches in every account the portfolio is shared with (Service Catalog's format).
        self.principal_associations = [
            aws.servicecatalog.PrincipalPortfolioAssociation(
                f"{name}-principal-{role}",
                portfolio_id=self.portfolio.id,
                principal_arn=f"arn:{args.partition}:iam:::role/{role}",
                principal_type="IAM_PATTERN",
                opts=child,
            )
            for role in cfg.principal_role_names
        ]

        self.register_outputs(
            {
                "portfolioId": self.portfolio.id,
                "productId": self.product.id,
                "provisioningArtifactId": self.artifact.provisioning_artifact_id,
                "templateUrl": self.template_url,
                "artifactsBucket": self.artifacts.bucket.bucket,
            }
        )

    def outputs(self) -> dict[str, Any]:
        """The ``catalog`` section of the central stack's outputs."""
        return {"portfolioId": self.portfolio.id, "productId": self.product.id, "templateUrl": self.template_url}
