"""APIs moto 5 lacks that the applier's mappings call, with the behaviour the AWS API
reference documents (a companion of ``devkit.moto_extensions``; same patching style:
missing operations are added to moto's response classes, state lives on the backend).

* Service Catalog: AssociateProductWithPortfolio / ListPortfoliosForProduct, CreateConstraint /
  DescribeConstraint / ListConstraintsForPortfolio (a LAUNCH constraint's LocalRoleName must exist
  in the account), Create/Describe/Update/ListProvisioningArtifact(s) (CreateProduct keeps its
  first artifact, which moto drops), AssociatePrincipalWithPortfolio /
  ListPrincipalsForPortfolio, CreateTagOption / DescribeTagOption,
  AssociateTagOptionWithResource / ListResourcesForTagOption.
* SSM: GetMaintenanceWindowTask (the task with its invocation parameters); GetPatchBaseline;
  RegisterDefaultPatchBaseline / GetDefaultPatchBaseline (one default per OS and region);
  tags on a patch baseline (CreatePatchBaseline with Tags, AddTagsToResource with
  ResourceType=PatchBaseline): moto refuses every PatchBaseline id as InvalidResourceId.
* SSM: GetServiceSetting / UpdateServiceSetting / ResetServiceSetting (the Default Host Management
  Configuration's role setting): the setting ids the API reference lists, and for the DHMC setting a
  value that names an IAM role of the account (UpdateServiceSetting: "the name of an IAM role").
* S3: a bucket policy's ``Deny`` with ``Bool aws:SecureTransport=false`` (the TLS-only
  statement every bucket of the program has) denies only plain-HTTP requests; moto ignores
  conditions and denies every PutObject/GetObject, although boto3 always uses HTTPS.
* IAM: AWS managed policies (``arn:aws:iam::aws:policy/...``) exist in every account; moto
  loads them only with MOTO_IAM_LOAD_MANAGED_POLICIES (all ~1,300 per account, slow), so an
  attached one is loaded on demand from moto's own copy of AWS's policy data.
* Lambda: layer versions that AWS (or a vendor) publishes publicly from its own accounts, such
  as Powertools for AWS Lambda: they exist on AWS, but moto knows only layers published
  inside the emulator and refuses CreateFunction with them. CreateFunction's DeadLetterConfig,
  which moto drops (GetFunction then has no DeadLetterConfig).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from moto.core.responses import ActionResult, EmptyResult

_installed = False

#: Accounts that publish public Lambda layers the program uses (Powertools for AWS Lambda,
#: docs/index.md of aws-powertools/powertools-lambda-python): aws and aws-cn partitions.
PUBLIC_LAYER_PUBLISHERS = frozenset({"017000801446", "498634801083"})


# ------------------------------------------------------------------------------ Service Catalog


def _catalog(backend: Any) -> dict[str, Any]:
    """Extra state on the moto backend (reset with it)."""
    state: dict[str, Any] = backend.__dict__.setdefault(
        "_devkit_catalog",
        {
            "product_portfolios": {},
            "constraints": {},
            "principals": {},
            "tag_options": {},
            "tag_resources": {},
            "artifacts": {},
        },
    )
    return state


def _params(response: Any) -> dict[str, Any]:
    return json.loads(response.body or "{}")


def _not_found(message: str) -> Exception:
    from moto.servicecatalog.exceptions import ResourceNotFoundException

    return ResourceNotFoundException(message)


def _invalid(message: str) -> Exception:
    from moto.servicecatalog.exceptions import InvalidParametersException

    return InvalidParametersException(message)


def _need_portfolio(backend: Any, portfolio_id: str) -> None:
    if portfolio_id not in backend.portfolios:
        raise _not_found(f"Portfolio {portfolio_id} not found.")


def _need_product(backend: Any, product_id: str) -> None:
    if product_id not in backend.products:
        raise _not_found(f"Product {product_id} not found.")


def _artifact(parameters: dict[str, Any]) -> dict[str, Any]:
    """A ProvisioningArtifactDetail from ProvisioningArtifactProperties (API reference shapes)."""
    import datetime

    info = parameters.get("Info") or {}
    if not info.get("LoadTemplateFromURL") and not info.get("ImportFromPhysicalId"):
        raise _invalid("Info needs LoadTemplateFromURL or ImportFromPhysicalId.")
    return {
        "Id": f"pa-{uuid.uuid4().hex[:13]}",
        "Name": parameters.get("Name", ""),
        "Description": parameters.get("Description", ""),
        "Type": parameters.get("Type", "CLOUD_FORMATION_TEMPLATE"),
        "CreatedTime": datetime.datetime.now(datetime.UTC),
        "Active": True,
        "Guidance": "DEFAULT",
        "_template_url": info.get("LoadTemplateFromURL", ""),
    }


def _public(artifact: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in artifact.items() if not k.startswith("_")}


def _install_product_artifacts() -> None:
    """CreateProduct keeps its first provisioning artifact (moto drops it), so ListProvisioningArtifacts
    and the later CreateProvisioningArtifact calls see every version of the product."""
    from moto.servicecatalog.responses import ServiceCatalogResponse

    original: Any = ServiceCatalogResponse.create_product

    def create_product(self: Any) -> Any:
        result = original(self)
        params = _params(self)
        artifact = _artifact(params.get("ProvisioningArtifactParameters") or {})
        data: dict[str, Any] = result.result
        product_id = data["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
        _catalog(self.servicecatalog_backend)["artifacts"][product_id] = [artifact]
        data["ProvisioningArtifactDetail"] = _public(artifact)
        return result

    setattr(ServiceCatalogResponse, "create_product", create_product)  # noqa: B010


def create_provisioning_artifact(self: Any) -> ActionResult:
    """A new version of an existing product (the product keeps its id)."""
    params, backend = _params(self), self.servicecatalog_backend
    _need_product(backend, params["ProductId"])
    artifact = _artifact(params.get("Parameters") or {})
    _catalog(backend)["artifacts"].setdefault(params["ProductId"], []).append(artifact)
    info = {"TemplateUrl": artifact["_template_url"]}
    return ActionResult({"ProvisioningArtifactDetail": _public(artifact), "Info": info, "Status": "AVAILABLE"})


def _find_artifact(backend: Any, product_id: str, artifact_id: str) -> dict[str, Any]:
    _need_product(backend, product_id)
    for artifact in _catalog(backend)["artifacts"].get(product_id, []):
        if artifact["Id"] == artifact_id:
            found: dict[str, Any] = artifact
            return found
    raise _not_found(f"Provisioning artifact {artifact_id} of product {product_id} not found.")


def describe_provisioning_artifact(self: Any) -> ActionResult:
    params, backend = _params(self), self.servicecatalog_backend
    artifact = _find_artifact(backend, params["ProductId"], params["ProvisioningArtifactId"])
    return ActionResult(
        {"ProvisioningArtifactDetail": _public(artifact), "Info": {"TemplateUrl": artifact["_template_url"]}}
    )


def update_provisioning_artifact(self: Any) -> ActionResult:
    params, backend = _params(self), self.servicecatalog_backend
    artifact = _find_artifact(backend, params["ProductId"], params["ProvisioningArtifactId"])
    for member in ("Name", "Description", "Active", "Guidance"):
        if member in params:
            artifact[member] = params[member]
    return ActionResult({"ProvisioningArtifactDetail": _public(artifact), "Status": "AVAILABLE"})


def list_provisioning_artifacts(self: Any) -> ActionResult:
    params, backend = _params(self), self.servicecatalog_backend
    _need_product(backend, params["ProductId"])
    artifacts = _catalog(backend)["artifacts"].get(params["ProductId"], [])
    return ActionResult({"ProvisioningArtifactDetails": [_public(a) for a in artifacts]})


def associate_product_with_portfolio(self: Any) -> ActionResult:
    params, backend = _params(self), self.servicecatalog_backend
    _need_portfolio(backend, params["PortfolioId"])
    _need_product(backend, params["ProductId"])
    portfolios = _catalog(backend)["product_portfolios"].setdefault(params["ProductId"], [])
    if params["PortfolioId"] not in portfolios:
        portfolios.append(params["PortfolioId"])
    return EmptyResult()


def list_portfolios_for_product(self: Any) -> ActionResult:
    params, backend = _params(self), self.servicecatalog_backend
    _need_product(backend, params["ProductId"])
    ids = _catalog(backend)["product_portfolios"].get(params["ProductId"], [])
    return ActionResult({"PortfolioDetails": [backend.portfolios[i].to_dict() for i in ids]})


#: CreateConstraint ``Type`` values and the parameter keys each accepts (API reference).
_CONSTRAINT_KEYS = {
    "LAUNCH": ({"RoleArn", "LocalRoleName"}, True),
    "NOTIFICATION": ({"NotificationArns"}, False),
    "RESOURCE_UPDATE": ({"Version", "TagUpdatesOnProvisionedProduct"}, False),
    "STACKSET": ({"Version", "AccountList", "RegionList", "AdminRole", "ExecutionRole"}, False),
    "TEMPLATE": ({"Rules", "Version"}, False),
}


def _need_local_role(account: str, region: str, role_name: str) -> None:
    """A LAUNCH constraint's ``LocalRoleName`` must name a role of the account creating the constraint.

    Source: botocore's ``servicecatalog`` model, ``CreateConstraintInput.Parameters`` (the API
    reference's CreateConstraint): "The given role name must exist in the account used to create the
    launch constraint and the account of the user who launches a product with this launch constraint."
    """
    from moto.iam.models import iam_backends
    from moto.utilities.utils import get_partition

    roles = iam_backends[account][get_partition(region)].roles.values()
    if not any(role.name == role_name for role in roles):
        raise _invalid(f"Role {role_name} does not exist in account {account}: a LocalRoleName must exist there.")


def create_constraint(self: Any) -> ActionResult:
    """CreateConstraint: the product must be in the portfolio; a LAUNCH constraint takes exactly
    one of RoleArn and LocalRoleName, and a LocalRoleName must exist in this account (API reference,
    ``Parameters``; :func:`_need_local_role`)."""
    params, backend = _params(self), self.servicecatalog_backend
    portfolio_id, product_id, kind = params["PortfolioId"], params["ProductId"], params["Type"]
    _need_portfolio(backend, portfolio_id)
    _need_product(backend, product_id)
    if portfolio_id not in _catalog(backend)["product_portfolios"].get(product_id, []):
        raise _not_found(f"Product {product_id} is not associated with portfolio {portfolio_id}.")
    if kind not in _CONSTRAINT_KEYS:
        raise _invalid(f"Type {kind} is not valid.")
    try:
        parameters = json.loads(params.get("Parameters") or "{}")
    except json.JSONDecodeError:
        raise _invalid("Parameters is not valid JSON.") from None
    allowed, exactly_one = _CONSTRAINT_KEYS[kind]
    unknown = set(parameters) - allowed
    if unknown:
        raise _invalid(f"Parameters {sorted(unknown)} are not valid for a {kind} constraint.")
    if exactly_one and len(set(parameters) & allowed) != 1:
        raise _invalid(f"A {kind} constraint needs exactly one of {sorted(allowed)}.")
    if kind == "LAUNCH" and "LocalRoleName" in parameters:
        _need_local_role(self.current_account, self.region, str(parameters["LocalRoleName"]))
    constraint_id = f"cons-{uuid.uuid4().hex[:13]}"
    detail = {
        "ConstraintId": constraint_id,
        "Type": kind,
        "Description": params.get("Description", ""),
        "Owner": self.current_account,
        "ProductId": product_id,
        "PortfolioId": portfolio_id,
    }
    _catalog(backend)["constraints"][constraint_id] = {"detail": detail, "parameters": params.get("Parameters")}
    return ActionResult(
        {"ConstraintDetail": detail, "ConstraintParameters": params.get("Parameters"), "Status": "AVAILABLE"}
    )


def describe_constraint(self: Any) -> ActionResult:
    params, backend = _params(self), self.servicecatalog_backend
    found = _catalog(backend)["constraints"].get(params["Id"])
    if not found:
        raise _not_found(f"Constraint {params['Id']} not found.")
    return ActionResult(
        {"ConstraintDetail": found["detail"], "ConstraintParameters": found["parameters"], "Status": "AVAILABLE"}
    )


def list_constraints_for_portfolio(self: Any) -> ActionResult:
    params, backend = _params(self), self.servicecatalog_backend
    _need_portfolio(backend, params["PortfolioId"])
    details = [
        c["detail"]
        for c in _catalog(backend)["constraints"].values()
        if c["detail"]["PortfolioId"] == params["PortfolioId"]
        and (not params.get("ProductId") or c["detail"]["ProductId"] == params["ProductId"])
    ]
    return ActionResult({"ConstraintDetails": details})


def associate_principal_with_portfolio(self: Any) -> ActionResult:
    """PrincipalType IAM or IAM_PATTERN; an IAM_PATTERN ARN has no account (API reference)."""
    params, backend = _params(self), self.servicecatalog_backend
    _need_portfolio(backend, params["PortfolioId"])
    kind, principal = params["PrincipalType"], params["PrincipalARN"]
    if kind not in ("IAM", "IAM_PATTERN"):
        raise _invalid(f"PrincipalType {kind} is not valid.")
    if kind == "IAM_PATTERN" and principal.split(":")[4:5] != [""]:
        raise _invalid("An IAM_PATTERN principal ARN must not name an account (arn:aws:iam:::role/...).")
    principals = _catalog(backend)["principals"].setdefault(params["PortfolioId"], [])
    entry = {"PrincipalARN": principal, "PrincipalType": kind}
    if entry not in principals:
        principals.append(entry)
    return EmptyResult()


def list_principals_for_portfolio(self: Any) -> ActionResult:
    params, backend = _params(self), self.servicecatalog_backend
    _need_portfolio(backend, params["PortfolioId"])
    return ActionResult({"Principals": list(_catalog(backend)["principals"].get(params["PortfolioId"], []))})


def create_tag_option(self: Any) -> ActionResult:
    params, backend = _params(self), self.servicecatalog_backend
    options = _catalog(backend)["tag_options"]
    if any(o["Key"] == params["Key"] and o["Value"] == params["Value"] for o in options.values()):
        from moto.core.exceptions import JsonRESTError

        raise JsonRESTError("DuplicateResourceException", f"TagOption {params['Key']}={params['Value']} exists.")
    option_id = f"tag-{uuid.uuid4().hex[:13]}"
    detail = {
        "Key": params["Key"],
        "Value": params["Value"],
        "Active": True,
        "Id": option_id,
        "Owner": self.current_account,
    }
    options[option_id] = detail
    return ActionResult({"TagOptionDetail": detail})


def describe_tag_option(self: Any) -> ActionResult:
    params, backend = _params(self), self.servicecatalog_backend
    found = _catalog(backend)["tag_options"].get(params["Id"])
    if not found:
        raise _not_found(f"TagOption {params['Id']} not found.")
    return ActionResult({"TagOptionDetail": found})


def associate_tag_option_with_resource(self: Any) -> ActionResult:
    params, backend = _params(self), self.servicecatalog_backend
    option_id, resource_id = params["TagOptionId"], params["ResourceId"]
    if option_id not in _catalog(backend)["tag_options"]:
        raise _not_found(f"TagOption {option_id} not found.")
    if resource_id not in backend.portfolios and resource_id not in backend.products:
        raise _not_found(f"Resource {resource_id} not found.")
    resources = _catalog(backend)["tag_resources"].setdefault(option_id, [])
    if resource_id not in resources:
        resources.append(resource_id)
    return EmptyResult()


def list_resources_for_tag_option(self: Any) -> ActionResult:
    params, backend = _params(self), self.servicecatalog_backend
    ids = _catalog(backend)["tag_resources"].get(params["TagOptionId"], [])
    return ActionResult({"ResourceDetails": [{"Id": i} for i in ids]})


# ------------------------------------------------------------------------------------------ SSM


def _defaults(backend: Any) -> dict[str, str]:
    state: dict[str, str] = backend.__dict__.setdefault("_devkit_default_baselines", {})
    return state


def register_default_patch_baseline(self: Any) -> ActionResult:
    """The baseline becomes its operating system's default in this account and region."""
    from moto.ssm.exceptions import DoesNotExistException

    baseline_id = self._get_param("BaselineId")
    baselines = self.ssm_backend.baselines
    if baseline_id not in baselines:
        raise DoesNotExistException(f"Patch Baseline {baseline_id} does not exist.")
    _defaults(self.ssm_backend)[baselines[baseline_id].operating_system] = baseline_id
    return ActionResult({"BaselineId": baseline_id})


def get_maintenance_window_task(self: Any) -> ActionResult:
    """GetMaintenanceWindowTask: the registered task, with TaskInvocationParameters (which
    DescribeMaintenanceWindowTasks does not return)."""
    from moto.ssm.exceptions import DoesNotExistException

    window = self.ssm_backend.get_maintenance_window(self._get_param("WindowId"))
    task = window.tasks.get(self._get_param("WindowTaskId"))
    if task is None:
        raise DoesNotExistException(f"Maintenance window task {self._get_param('WindowTaskId')} does not exist.")
    fields = {**task.to_json(), "CutoffBehavior": task.cutoff_behavior}
    return ActionResult({k: v for k, v in fields.items() if v is not None})


def get_patch_baseline(self: Any) -> ActionResult:
    """GetPatchBaseline: the baseline's definition (API reference response shape)."""
    from moto.ssm.exceptions import DoesNotExistException

    baseline_id = self._get_param("BaselineId")
    baseline = self.ssm_backend.baselines.get(baseline_id)
    if baseline is None:
        raise DoesNotExistException(f"Patch Baseline {baseline_id} does not exist.")
    fields = {
        "BaselineId": baseline.id,
        "Name": baseline.name,
        "OperatingSystem": baseline.operating_system,
        "GlobalFilters": baseline.global_filters,
        "ApprovalRules": baseline.approval_rules,
        "ApprovedPatches": baseline.approved_patches or [],
        "ApprovedPatchesComplianceLevel": baseline.approved_patches_compliance_level,
        "ApprovedPatchesEnableNonSecurity": baseline.approved_patches_enable_non_security,
        "RejectedPatches": baseline.rejected_patches or [],
        "RejectedPatchesAction": baseline.rejected_patches_action,
        "Description": baseline.description,
        "Sources": baseline.sources or [],
    }
    return ActionResult({k: v for k, v in fields.items() if v is not None})


def get_default_patch_baseline(self: Any) -> ActionResult:
    """A registered default, else AWS's predefined baseline for the OS (``AWS-<OS>DefaultPatchBaseline``)."""
    operating_system = self._get_param("OperatingSystem") or "WINDOWS"
    baseline_id = _defaults(self.ssm_backend).get(operating_system)
    if baseline_id is None:
        region, partition = self.region, "aws"
        baseline_id = f"arn:{partition}:ssm:{region}:aws:patchbaseline/AWS-{operating_system}-default"
    return ActionResult({"BaselineId": baseline_id, "OperatingSystem": operating_system})


#: Service settings UpdateServiceSetting accepts (SSM API reference, UpdateServiceSetting, SettingId) with the
#: value each has until it is updated (GetServiceSetting of an account that never changed it).
SERVICE_SETTING_DEFAULTS = {
    "/ssm/managed-instance/default-ec2-instance-management-role": "",
    "/ssm/automation/customer-script-log-destination": "None",
    "/ssm/automation/customer-script-log-group-name": "",
    "/ssm/documents/console/public-sharing-permission": "Enable",
    "/ssm/managed-instance/activation-tier": "standard",
    "/ssm/opsinsights/opscenter": "Disabled",
    "/ssm/parameter-store/default-parameter-tier": "Standard",
    "/ssm/parameter-store/high-throughput-enabled": "false",
}
DHMC_SETTING = "/ssm/managed-instance/default-ec2-instance-management-role"


def _settings(backend: Any) -> dict[str, dict[str, str]]:
    state: dict[str, dict[str, str]] = backend.__dict__.setdefault("_devkit_service_settings", {})
    return state


def _setting_name(self: Any) -> str:
    """The setting's path from ``SettingId`` (an ARN ``...:servicesetting/ssm/...`` or the path itself)."""
    from moto.ssm.exceptions import ValidationException

    setting_id = str(self._get_param("SettingId") or "")
    name = setting_id.split(":servicesetting", 1)[1] if ":servicesetting" in setting_id else setting_id
    if setting_id.startswith("arn:"):
        parts = setting_id.split(":")
        if len(parts) < 6 or parts[3] != self.region or parts[4] != self.current_account:
            raise ValidationException(f"SettingId {setting_id} is not a setting of this account and region.")
    if name not in SERVICE_SETTING_DEFAULTS:
        raise ValidationException(f"SettingId {setting_id} is not a service setting.")
    return name


def _setting_result(self: Any, name: str) -> ActionResult:
    stored = _settings(self.ssm_backend).get(name)
    value = stored["value"] if stored else SERVICE_SETTING_DEFAULTS[name]
    return ActionResult(
        {
            "ServiceSetting": {
                "SettingId": name,
                "SettingValue": value,
                "LastModifiedUser": stored["user"] if stored else "System",
                "ARN": f"arn:aws:ssm:{self.region}:{self.current_account}:servicesetting{name}",
                "Status": "Customized" if stored else "Default",
            }
        }
    )


def get_service_setting(self: Any) -> ActionResult:
    return _setting_result(self, _setting_name(self))


def update_service_setting(self: Any) -> ActionResult:
    """The DHMC setting must name a role of this account (UpdateServiceSetting, SettingValue)."""
    from moto.iam.models import iam_backends
    from moto.ssm.exceptions import ValidationException

    name = _setting_name(self)
    value = str(self._get_param("SettingValue") or "")
    if name == DHMC_SETTING:
        role_name = value.rsplit("/", 1)[-1]
        roles = iam_backends[self.current_account][self.partition].roles.values()
        if not any(role.name == role_name for role in roles):
            raise ValidationException(f"SettingValue {value}: no IAM role of that name in this account.")
    _settings(self.ssm_backend)[name] = {"value": value, "user": "devkit"}
    return EmptyResult()


def reset_service_setting(self: Any) -> ActionResult:
    name = _setting_name(self)
    _settings(self.ssm_backend).pop(name, None)
    return _setting_result(self, name)


def _install_baseline_tags() -> None:
    from moto.ssm.exceptions import InvalidResourceId
    from moto.ssm.models import SimpleSystemManagerBackend

    original = SimpleSystemManagerBackend._validate_resource_type_and_id

    def validate(self: Any, resource_type: str, resource_id: str) -> str:
        if resource_type == "PatchBaseline":
            if resource_id not in self.baselines:
                raise InvalidResourceId()
            return resource_id
        result: str = original(self, resource_type, resource_id)
        return result

    SimpleSystemManagerBackend._validate_resource_type_and_id = validate  # type: ignore[method-assign]


# ------------------------------------------------------------------------------------------ IAM


def _install_managed_policies_on_demand() -> None:
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.iam.models import AWSManagedPolicy, IAMBackend

    original = IAMBackend.attach_role_policy
    catalog: dict[str, Any] = {}

    def attach_role_policy(self: Any, policy_arn: str, role_name: str) -> None:
        prefix = f"arn:{self.partition}:iam::aws:policy/"
        if policy_arn.startswith(prefix) and policy_arn not in self.managed_policies:
            if not catalog:
                catalog.update(json.loads(aws_managed_policies_data))
            name = policy_arn.rsplit("/", 1)[-1]
            if name in catalog:
                policy = AWSManagedPolicy.from_data(name, self.account_id, self.region_name, catalog[name])
                self.managed_policies[policy.arn] = policy
        original(self, policy_arn, role_name)

    IAMBackend.attach_role_policy = attach_role_policy  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------- Lambda


def _install_public_layers() -> None:
    from moto.awslambda.models import LambdaFunction

    original: Any = LambdaFunction._get_layers_data

    def _get_layers_data(self: Any, arns: list[str]) -> Any:
        public = [a for a in arns if a.split(":")[4:5] and a.split(":")[4] in PUBLIC_LAYER_PUBLISHERS]
        own = [a for a in arns if a not in public]
        result = list(original(self, own)) if own else []
        return [{"Arn": a, "CodeSize": 0} for a in public] + result

    setattr(LambdaFunction, "_get_layers_data", _get_layers_data)  # noqa: B010

    original_init: Any = LambdaFunction.__init__
    original_configuration: Any = LambdaFunction.get_configuration

    def __init__(self: Any, account_id: str, spec: dict[str, Any], region: str, version: Any = 1) -> None:
        original_init(self, account_id, spec, region, version)
        self.devkit_dead_letter_config = spec.get("DeadLetterConfig")

    def get_configuration(self: Any, on_create: bool = False) -> Any:
        configuration = original_configuration(self, on_create)
        if getattr(self, "devkit_dead_letter_config", None):
            configuration["DeadLetterConfig"] = self.devkit_dead_letter_config
        return configuration

    setattr(LambdaFunction, "__init__", __init__)  # noqa: B010
    setattr(LambdaFunction, "get_configuration", get_configuration)  # noqa: B010


# ------------------------------------------------------------------------------------------- S3


def _install_secure_transport() -> None:
    """Bucket policies judged with IAM's condition semantics instead of moto's.

    moto's ``IAMPolicyStatement`` returns DENIED for any statement whose condition does not hold,
    so every conditioned Deny (TLS-only, "header names another key") refused every write. The
    statements are judged here with the IAM replay's logic (``devkit/iam_replay/policy_logic.py``)
    on what the emulator knows of a request: it came over HTTPS (``aws:SecureTransport`` true);
    any other key is absent, so a Deny that needs it present does not apply and an Allow that needs
    it does not grant (moto then decides as for a bucket without that statement).
    """
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    from devkit.iam_replay.policy_logic import any_statement_matches

    context = {"aws:SecureTransport": "true"}

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = [json.loads(self.policy.decode())]
        if any_statement_matches(document, "Deny", action, resource, context):
            return PermissionResult.DENIED
        if any_statement_matches(document, "Allow", action, resource, context):
            return PermissionResult.PERMITTED
        return PermissionResult.NEUTRAL

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]


def install() -> None:
    """Patch moto (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.servicecatalog.responses import ServiceCatalogResponse
    from moto.ssm.responses import SimpleSystemManagerResponse

    for name, function in {
        "associate_product_with_portfolio": associate_product_with_portfolio,
        "list_portfolios_for_product": list_portfolios_for_product,
        "create_constraint": create_constraint,
        "describe_constraint": describe_constraint,
        "list_constraints_for_portfolio": list_constraints_for_portfolio,
        "associate_principal_with_portfolio": associate_principal_with_portfolio,
        "list_principals_for_portfolio": list_principals_for_portfolio,
        "create_tag_option": create_tag_option,
        "describe_tag_option": describe_tag_option,
        "associate_tag_option_with_resource": associate_tag_option_with_resource,
        "list_resources_for_tag_option": list_resources_for_tag_option,
        "create_provisioning_artifact": create_provisioning_artifact,
        "describe_provisioning_artifact": describe_provisioning_artifact,
        "update_provisioning_artifact": update_provisioning_artifact,
        "list_provisioning_artifacts": list_provisioning_artifacts,
    }.items():
        setattr(ServiceCatalogResponse, name, function)
    for name, function in {
        "get_patch_baseline": get_patch_baseline,
        "get_maintenance_window_task": get_maintenance_window_task,
        "register_default_patch_baseline": register_default_patch_baseline,
        "get_default_patch_baseline": get_default_patch_baseline,
        "get_service_setting": get_service_setting,
        "update_service_setting": update_service_setting,
        "reset_service_setting": reset_service_setting,
    }.items():
        setattr(SimpleSystemManagerResponse, name, function)
    _install_product_artifacts()
    _install_public_layers()
    _install_baseline_tags()
    _install_managed_policies_on_demand()
    _install_secure_transport()
    _installed = True
