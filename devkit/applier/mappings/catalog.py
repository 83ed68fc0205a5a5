"""Service Catalog: the hub's portfolio, product, launch constraint, shares and tag options."""

from __future__ import annotations

from typing import Any

import boto3

from ..registry import Created, Target, mapping, missing_is_none


def _read_portfolio(session: boto3.session.Session, portfolio_id: str, _: dict[str, Any]) -> Any:
    client = session.client("servicecatalog")
    return missing_is_none(lambda: client.describe_portfolio(Id=portfolio_id)["PortfolioDetail"])


@mapping("aws:servicecatalog/portfolio:Portfolio", _read_portfolio)
def portfolio(target: Target) -> Created:
    i = target.inputs
    request: dict[str, Any] = {"DisplayName": target.autoname(), "ProviderName": i["providerName"]}
    if i.get("description"):
        request["Description"] = i["description"]
    if target.tags:
        request["Tags"] = target.tag_list()
    detail = target.client("servicecatalog").create_portfolio(**request)["PortfolioDetail"]
    return Created(detail["Id"], {"arn": detail["ARN"], "name": detail["DisplayName"]})


def _read_product(session: boto3.session.Session, product_id: str, _: dict[str, Any]) -> Any:
    client = session.client("servicecatalog")
    return missing_is_none(lambda: client.describe_product(Id=product_id)["ProductViewSummary"])


@mapping("aws:servicecatalog/product:Product", _read_product)
def product(target: Target) -> Created:
    i = target.inputs
    artifact = i["provisioningArtifactParameters"]
    artifact_info: dict[str, Any] = {}
    if artifact.get("templateUrl"):
        artifact_info["LoadTemplateFromURL"] = artifact["templateUrl"]
    if artifact.get("templatePhysicalId"):
        artifact_info["ImportFromPhysicalId"] = artifact["templatePhysicalId"]
    rendered_artifact: dict[str, Any] = {"Info": artifact_info, "Type": artifact.get("type") or i["type"]}
    for source, dest in (("name", "Name"), ("description", "Description")):
        if artifact.get(source):
            rendered_artifact[dest] = artifact[source]
    request: dict[str, Any] = {
        "Name": target.autoname(),
        "Owner": i["owner"],
        "ProductType": i["type"],
        "ProvisioningArtifactParameters": rendered_artifact,
        "IdempotencyToken": target.urn,
    }
    for source, dest in (
        ("description", "Description"),
        ("distributor", "Distributor"),
        ("supportDescription", "SupportDescription"),
        ("supportEmail", "SupportEmail"),
        ("supportUrl", "SupportUrl"),
    ):
        if i.get(source):
            request[dest] = i[source]
    if target.tags:
        request["Tags"] = target.tag_list()
    detail = target.client("servicecatalog").create_product(**request)["ProductViewDetail"]
    summary = detail["ProductViewSummary"]
    return Created(summary["ProductId"], {"arn": detail.get("ProductARN", ""), "name": summary["Name"]})


def _read_artifact(session: boto3.session.Session, physical_id: str, _: dict[str, Any]) -> Any:
    artifact_id, product_id = physical_id.split(":", 1)
    client = session.client("servicecatalog")
    return missing_is_none(
        lambda: client.describe_provisioning_artifact(ProductId=product_id, ProvisioningArtifactId=artifact_id)[
            "ProvisioningArtifactDetail"
        ]
    )


@mapping("aws:servicecatalog/provisioningArtifact:ProvisioningArtifact", _read_artifact)
def provisioning_artifact(target: Target) -> Created:
    """CreateProvisioningArtifact on the existing product (pulumi-aws's id: ``<artifact id>:<product id>``)."""
    i = target.inputs
    info: dict[str, Any] = {}
    if i.get("templateUrl"):
        info["LoadTemplateFromURL"] = i["templateUrl"]
    if i.get("templatePhysicalId"):
        info["ImportFromPhysicalId"] = i["templatePhysicalId"]
    parameters: dict[str, Any] = {"Info": info, "Type": i.get("type") or "CLOUD_FORMATION_TEMPLATE"}
    for source, dest in (("name", "Name"), ("description", "Description")):
        if i.get(source):
            parameters[dest] = i[source]
    if i.get("disableTemplateValidation") is not None:
        parameters["DisableTemplateValidation"] = bool(i["disableTemplateValidation"])
    product_id = str(i["productId"])
    client = target.client("servicecatalog")
    detail = client.create_provisioning_artifact(
        ProductId=product_id, Parameters=parameters, IdempotencyToken=target.urn[-128:]
    )["ProvisioningArtifactDetail"]
    artifact_id = detail["Id"]
    if i.get("guidance") or i.get("active") is not None:
        update: dict[str, Any] = {"ProductId": product_id, "ProvisioningArtifactId": artifact_id}
        if i.get("guidance"):
            update["Guidance"] = i["guidance"]
        if i.get("active") is not None:
            update["Active"] = bool(i["active"])
        client.update_provisioning_artifact(**update)
    return Created(f"{artifact_id}:{product_id}", {"provisioningArtifactId": artifact_id})


def _read_product_association(session: boto3.session.Session, _: str, outputs: dict[str, Any]) -> Any:
    client = session.client("servicecatalog")
    found = client.list_portfolios_for_product(ProductId=str(outputs["productId"]))["PortfolioDetails"]
    return next((p for p in found if p["Id"] == outputs["portfolioId"]), None)


@mapping("aws:servicecatalog/productPortfolioAssociation:ProductPortfolioAssociation", _read_product_association)
def product_association(target: Target) -> Created:
    portfolio_id, product_id = str(target.inputs["portfolioId"]), str(target.inputs["productId"])
    target.client("servicecatalog").associate_product_with_portfolio(PortfolioId=portfolio_id, ProductId=product_id)
    return Created(f"en:{portfolio_id}:{product_id}")


def _read_constraint(session: boto3.session.Session, constraint_id: str, _: dict[str, Any]) -> Any:
    client = session.client("servicecatalog")
    return missing_is_none(lambda: client.describe_constraint(Id=constraint_id))


@mapping("aws:servicecatalog/constraint:Constraint", _read_constraint)
def constraint(target: Target) -> Created:
    i = target.inputs
    request: dict[str, Any] = {
        "PortfolioId": str(i["portfolioId"]),
        "ProductId": str(i["productId"]),
        "Type": i["type"],
        "Parameters": str(i["parameters"]),
        "IdempotencyToken": target.urn[-128:],
    }
    if i.get("description"):
        request["Description"] = i["description"]
    detail = target.client("servicecatalog").create_constraint(**request)["ConstraintDetail"]
    return Created(detail["ConstraintId"], {"owner": detail.get("Owner", target.account), "status": "AVAILABLE"})


def _read_share(session: boto3.session.Session, _: str, outputs: dict[str, Any]) -> Any:
    client = session.client("servicecatalog")
    kind = str(outputs["type"])
    shares = client.describe_portfolio_shares(PortfolioId=str(outputs["portfolioId"]), Type=kind)[
        "PortfolioShareDetails"
    ]
    return next((s for s in shares if s.get("PrincipalId") == outputs["principalId"]), None)


@mapping("aws:servicecatalog/portfolioShare:PortfolioShare", _read_share)
def portfolio_share(target: Target) -> Created:
    i = target.inputs
    portfolio_id, kind, principal = str(i["portfolioId"]), str(i["type"]), str(i["principalId"])
    request: dict[str, Any] = {
        "PortfolioId": portfolio_id,
        "ShareTagOptions": bool(i.get("shareTagOptions")),
        "SharePrincipals": bool(i.get("sharePrincipals")),
    }
    if kind == "ACCOUNT":
        request["AccountId"] = principal
    else:
        request["OrganizationNode"] = {"Type": kind, "Value": principal}
    target.client("servicecatalog").create_portfolio_share(**request)
    return Created(f"{portfolio_id}:{kind}:{principal}", {"accepted": kind != "ACCOUNT"})


def _read_principal(session: boto3.session.Session, _: str, outputs: dict[str, Any]) -> Any:
    client = session.client("servicecatalog")
    found = client.list_principals_for_portfolio(PortfolioId=str(outputs["portfolioId"]))["Principals"]
    return next((p for p in found if p["PrincipalARN"] == outputs["principalArn"]), None)


@mapping("aws:servicecatalog/principalPortfolioAssociation:PrincipalPortfolioAssociation", _read_principal)
def principal_association(target: Target) -> Created:
    i = target.inputs
    kind = i.get("principalType") or "IAM"
    target.client("servicecatalog").associate_principal_with_portfolio(
        PortfolioId=str(i["portfolioId"]), PrincipalARN=str(i["principalArn"]), PrincipalType=kind
    )
    return Created(f"en,{i['principalArn']},{i['portfolioId']},{kind}")


def _read_tag_option(session: boto3.session.Session, option_id: str, _: dict[str, Any]) -> Any:
    client = session.client("servicecatalog")
    return missing_is_none(lambda: client.describe_tag_option(Id=option_id)["TagOptionDetail"])


@mapping("aws:servicecatalog/tagOption:TagOption", _read_tag_option)
def tag_option(target: Target) -> Created:
    detail = target.client("servicecatalog").create_tag_option(
        Key=str(target.inputs["key"]), Value=str(target.inputs["value"])
    )["TagOptionDetail"]
    return Created(detail["Id"], {"owner": detail.get("Owner", "")})


def _read_tag_association(session: boto3.session.Session, _: str, outputs: dict[str, Any]) -> Any:
    client = session.client("servicecatalog")
    found = client.list_resources_for_tag_option(TagOptionId=str(outputs["tagOptionId"]))["ResourceDetails"]
    return next((r for r in found if r["Id"] == outputs["resourceId"]), None)


@mapping("aws:servicecatalog/tagOptionResourceAssociation:TagOptionResourceAssociation", _read_tag_association)
def tag_option_association(target: Target) -> Created:
    option_id, resource_id = str(target.inputs["tagOptionId"]), str(target.inputs["resourceId"])
    target.client("servicecatalog").associate_tag_option_with_resource(ResourceId=resource_id, TagOptionId=option_id)
    return Created(f"{option_id}:{resource_id}")
