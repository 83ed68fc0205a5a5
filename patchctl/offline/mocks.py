"""Mocks that answer like the AWS provider would, enough for previews and policy checks.

Without the provider there is no Check step: no autonaming, no computed ARNs. A missing
output that other resources consume is silently dropped from their inputs (or becomes
unknown in preview), which produces false policy results. So these mocks compute what the
provider computes for the properties this program and typical app-team programs read:
ids, ARNs in the right account/region/partition, autonames, ``tagsAll`` with provider
default tags, and the common invokes, answered per provider (per assumed account).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
from pulumi.runtime.mocks import MockCallArgs, MockResourceArgs

from patchctl.offline import service_rules
from patchctl.offline.catalog_rules import constraint_refusal
from patchctl.offline.deprecations import warn_deprecated_inputs

log = logging.getLogger(__name__)

#: Properties the AWS provider fills with a generated name when the program omits them.
AUTONAME: dict[str, str] = {
    "aws:iam/role:Role": "name",
    "aws:iam/policy:Policy": "name",
    "aws:iam/instanceProfile:InstanceProfile": "name",
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
    "aws:ssm/patchBaseline:PatchBaseline": "name",
    "aws:ssm/maintenanceWindow:MaintenanceWindow": "name",
    "aws:ssm/document:Document": "name",
    "aws:ec2/securityGroup:SecurityGroup": "name",
    "aws:ec2/launchTemplate:LaunchTemplate": "name",
    "aws:autoscaling/group:Group": "name",
    "aws:lambda/function:Function": "name",
    "aws:sfn/stateMachine:StateMachine": "name",
    "aws:sns/topic:Topic": "name",
    "aws:cloudwatch/eventRule:EventRule": "name",
    "aws:cloudwatch/logGroup:LogGroup": "name",
    "aws:athena/workgroup:Workgroup": "name",
    "aws:glue/catalogDatabase:CatalogDatabase": "name",
    "aws:cfg/rule:Rule": "name",
    "aws:sqs/queue:Queue": "name",
}

#: ARN layouts: service, whether the ARN has a region and an account, and the resource part.
_ARN_LAYOUT: dict[str, tuple[str, bool, bool, str]] = {
    "aws:iam/role:Role": ("iam", False, True, "role/{name}"),
    "aws:iam/policy:Policy": ("iam", False, True, "policy/{name}"),
    "aws:iam/instanceProfile:InstanceProfile": ("iam", False, True, "instance-profile/{name}"),
    "aws:s3/bucket:Bucket": ("s3", False, False, "{bucket}"),
    "aws:s3/bucketV2:BucketV2": ("s3", False, False, "{bucket}"),
    "aws:kms/key:Key": ("kms", True, True, "key/{id}"),
    "aws:kms/alias:Alias": ("kms", True, True, "{name}"),
    "aws:lambda/function:Function": ("lambda", True, True, "function:{name}"),
    "aws:sfn/stateMachine:StateMachine": ("states", True, True, "stateMachine:{name}"),
    "aws:sns/topic:Topic": ("sns", True, True, "{name}"),
    "aws:sqs/queue:Queue": ("sqs", True, True, "{name}"),
    "aws:cloudwatch/logGroup:LogGroup": ("logs", True, True, "log-group:{name}"),
    "aws:cloudwatch/eventRule:EventRule": ("events", True, True, "rule/{name}"),
    "aws:cloudwatch/eventBus:EventBus": ("events", True, True, "event-bus/{name}"),
    "aws:dynamodb/table:Table": ("dynamodb", True, True, "table/{name}"),
    "aws:ssm/document:Document": ("ssm", True, True, "document/{name}"),
    "aws:ssm/maintenanceWindow:MaintenanceWindow": ("ssm", True, True, "maintenancewindow/{id}"),
    "aws:ssm/patchBaseline:PatchBaseline": ("ssm", True, True, "patchbaseline/{id}"),
    "aws:athena/workgroup:Workgroup": ("athena", True, True, "workgroup/{name}"),
    "aws:glue/catalogDatabase:CatalogDatabase": ("glue", True, True, "database/{name}"),
    "aws:glue/catalogTable:CatalogTable": ("glue", True, True, "table/{databaseName}/{name}"),
    "aws:cfg/rule:Rule": ("config", True, True, "config-rule/{name}"),
    "aws:ec2/instance:Instance": ("ec2", True, True, "instance/{id}"),
    "aws:ec2/launchTemplate:LaunchTemplate": ("ec2", True, True, "launch-template/{id}"),
    "aws:autoscaling/group:Group": ("autoscaling", True, True, "autoScalingGroup:{id}:autoScalingGroupName/{name}"),
    "aws:servicecatalog/portfolio:Portfolio": ("catalog", True, True, "portfolio/{id}"),
    "aws:servicecatalog/product:Product": ("catalog", True, True, "product/{id}"),
}

_ID_PREFIX: dict[str, str] = {
    "aws:ec2/instance:Instance": "i-",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt-",
    "aws:ssm/patchBaseline:PatchBaseline": "pb-",
    "aws:ssm/maintenanceWindow:MaintenanceWindow": "mw-",
    "aws:ec2/securityGroup:SecurityGroup": "sg-",
    "aws:servicecatalog/portfolio:Portfolio": "port-",
    "aws:servicecatalog/product:Product": "prod-",
}

DEFAULT_REGION = "us-east-1"


def _digest(text: str, length: int = 17) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def _json_or_value(value: Any) -> Any:
    """Provider config values arrive JSON-encoded on the wire; accept both forms."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


class UnmockedInvoke(LookupError):
    """An invoke no mock answers (strict mode): a missing mock must be loud, not an empty result."""


class AwsMocks(pulumi.runtime.Mocks):
    """Answers registrations and invokes the way the AWS provider would, per provider.

    ``default_account``: the account of the deploying credentials (what a resource with no
    explicit provider, or a provider with no assumed role, would land in).
    ``stack_outputs``: outputs of other stacks by fully qualified name, for ``StackReference``.
    ``strict``: raise on an invoke no mock answers (our own program) instead of warning and
    returning an empty result (arbitrary app-team programs in ``policy-check``).
    """

    def __init__(
        self,
        *,
        default_account: str = "111111111111",
        default_region: str = DEFAULT_REGION,
        org_id: str = "o-exampleorg01",
        management_account: str | None = None,
        organization_accounts: Mapping[str, str] | None = None,
        stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
        strict: bool = True,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self.default_account = default_account
        self.default_region = default_region
        self.org_id = org_id
        self.management_account = management_account or default_account
        self.organization_accounts = dict(organization_accounts or {})
        self.stack_outputs = {k: dict(v) for k, v in (stack_outputs or {}).items()}
        self.strict = strict
        self.warnings: list[str] = []
        self._on_warning = on_warning
        self.providers: dict[str, dict[str, Any]] = {}
        self._roles_by_account: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ provider identity

    def provider_inputs(self, provider_ref: str | None) -> dict[str, Any]:
        if not provider_ref:
            return {}
        return self.providers.get(provider_ref.rsplit("::", 1)[-1], {})

    def account_of(self, provider_ref: str | None) -> str:
        """The account a provider deploys into: its assumed role's, else its allowed account."""
        inputs = self.provider_inputs(provider_ref)
        roles = _json_or_value(inputs.get("assumeRoles")) or []
        if isinstance(roles, list) and roles and isinstance(roles[0], dict):
            arn = roles[0].get("roleArn") or ""
            if arn.count(":") >= 5:
                return str(arn.split(":")[4])
        allowed = _json_or_value(inputs.get("allowedAccountIds")) or []
        if isinstance(allowed, list) and allowed:
            return str(allowed[0])
        return self.default_account

    def region_of(self, provider_ref: str | None, resource_inputs: Mapping[str, Any] | None = None) -> str:
        """pulumi-aws 7: a resource's own ``region`` wins over its provider's."""
        if resource_inputs and isinstance(resource_inputs.get("region"), str):
            return str(resource_inputs["region"])
        return str(self.provider_inputs(provider_ref).get("region") or self.default_region)

    # ------------------------------------------------------------------ resources

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        outputs = dict(args.inputs)
        if args.typ.startswith("pulumi:providers:"):
            provider_id = f"{args.name}-provider-id"
            with self._lock:
                self.providers[provider_id] = dict(args.inputs)
            return provider_id, outputs
        if args.typ == "pulumi:pulumi:StackReference":
            name = str(args.inputs.get("name") or args.resource_id or args.name)
            if name not in self.stack_outputs:
                message = f"StackReference {name!r}: no outputs known (render that stack first)"
                if self.strict:
                    raise KeyError(message)
                self._warn(message)
            return name, {"name": name, "outputs": self.stack_outputs.get(name, {}), "secretOutputNames": []}

        warn_deprecated_inputs(args.typ, args.inputs)
        if args.typ == "aws:ssm/patchBaseline:PatchBaseline":
            _check_patch_baseline(args.name, args.inputs)
        account = self.account_of(args.provider)
        self._check_catalog(args, account)
        region = self.region_of(args.provider, args.inputs)
        prefix = _ID_PREFIX.get(args.typ, "")
        resource_id = args.resource_id or (
            f"{prefix}{_digest(args.name + account + region)}" if prefix else f"{args.name}-id"
        )
        autoname_property = AUTONAME.get(args.typ)
        if autoname_property and not outputs.get(autoname_property):
            outputs[autoname_property] = f"{args.name}-{_digest(args.name, 7)}"
        if args.typ == "aws:kms/key:Key":
            resource_id = f"{_digest(args.name + account, 8)}-0000-4000-8000-{_digest(args.name, 12)}"
            outputs.setdefault("keyId", resource_id)
        outputs.setdefault("arn", self._arn(args.typ, account, region, resource_id, outputs))
        outputs.setdefault("id", resource_id)
        default_tags = (_json_or_value(self.provider_inputs(args.provider).get("defaultTags")) or {}).get("tags") or {}
        tags = outputs.get("tags")
        # Most resources take tags as a map; an Auto Scaling group takes a list of
        # {key, value, propagateAtLaunch} and has no tagsAll.
        if isinstance(tags, dict) or (tags is None and default_tags):
            outputs["tagsAll"] = {**default_tags, **(tags or {})}
        if args.typ == "aws:ec2/instance:Instance":
            outputs.setdefault("privateIp", "10.0.0.10")
            outputs.setdefault("instanceState", "running")
        if args.typ == "aws:ec2/launchTemplate:LaunchTemplate":
            outputs.setdefault("latestVersion", 1)
            outputs.setdefault("defaultVersion", 1)
        if args.typ == "aws:s3/bucket:Bucket" or args.typ == "aws:s3/bucketV2:BucketV2":
            outputs.setdefault("bucketRegionalDomainName", f"{outputs['bucket']}.s3.{region}.amazonaws.com")
        return resource_id, outputs

    def _check_catalog(self, args: MockResourceArgs, account: str) -> None:
        """Remember roles per account; refuse a launch constraint naming one the account lacks (catalog_rules)."""
        with self._lock:
            roles = self._roles_by_account.setdefault(account, set())
            if args.typ == "aws:iam/role:Role" and args.inputs.get("name"):
                roles.add(str(args.inputs["name"]))
            if args.typ == "aws:servicecatalog/constraint:Constraint":
                refusal = constraint_refusal(args.inputs, account, roles)
                if refusal is not None:
                    raise ValueError(f"{args.name}: {refusal}")

    def _arn(self, typ: str, account: str, region: str, resource_id: str, outputs: Mapping[str, Any]) -> str:
        partition = partition_of(region)
        layout = _ARN_LAYOUT.get(typ)
        if layout is None:
            service = typ.split(":")[1].split("/")[0]
            return f"arn:{partition}:{service}:{region}:{account}:{resource_id}"
        service, regional, with_account, resource = layout
        values = {k: v for k, v in outputs.items() if isinstance(v, str)}
        values.setdefault("name", resource_id)
        values["id"] = resource_id
        try:
            resource_part = resource.format(**values)
        except KeyError:
            resource_part = resource_id
        return (
            f"arn:{partition}:{service}:{region if regional else ''}:{account if with_account else ''}:{resource_part}"
        )

    # ------------------------------------------------------------------ invokes

    def call(self, args: MockCallArgs) -> dict[str, Any]:  # type: ignore[override]  # the SDK accepts a plain dict
        account = self.account_of(args.provider)
        region = self.region_of(args.provider, args.args)
        answer = self._answer(args.token, dict(args.args or {}), account, region)
        if answer is None:
            message = f"no mock for invoke {args.token}"
            if self.strict:
                raise UnmockedInvoke(message)
            self._warn(message + " (answered with an empty result)")
            return {}
        return answer

    def _warn(self, message: str) -> None:
        with self._lock:
            self.warnings.append(message)
        if self._on_warning:
            self._on_warning(message)
        log.warning(message)

    def _answer(self, token: str, args: dict[str, Any], account: str, region: str) -> dict[str, Any] | None:
        partition = partition_of(region)
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": account,
                "id": account,
                "arn": f"arn:{partition}:sts::{account}:assumed-role/pulumi-deploy/session",
                "userId": "AROAEXAMPLEID:session",
            }
        if token == "aws:index/getRegion:getRegion":
            name = args.get("region") or args.get("name") or region
            return {
                "name": name,
                "region": name,
                "id": name,
                "endpoint": f"ec2.{name}.amazonaws.com",
                "description": name,
            }
        if token == "aws:index/getPartition:getPartition":
            return {
                "partition": partition,
                "id": partition,
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
            }
        if token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            names = [f"{region}{suffix}" for suffix in "abc"]
            return {
                "names": names,
                "zoneIds": [f"{region[:3]}-az{i}" for i in (1, 2, 3)],
                "id": region,
                "groupNames": [region],
            }
        if token == "aws:organizations/getOrganization:getOrganization":
            return self._organization()
        if token == "aws:iam/getPolicyDocument:getPolicyDocument":
            return {"json": json.dumps(_policy_document(args)), "id": _digest(json.dumps(args, sort_keys=True))}
        if token == "aws:ec2/getAmi:getAmi":
            return {
                "id": "ami-0abcdef1234567890",
                "imageId": "ami-0abcdef1234567890",
                "architecture": "x86_64",
                "name": "mock-ami",
            }
        if token == "aws:ec2/getVpc:getVpc":
            return {
                "id": "vpc-0123456789abcdef0",
                "cidrBlock": "10.0.0.0/16",
                "arn": f"arn:{partition}:ec2:{region}:{account}:vpc/vpc-0123456789abcdef0",
            }
        if token == "aws:ec2/getSubnets:getSubnets":
            return {"ids": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"], "id": region}
        if token == "aws:ssm/getParameter:getParameter":
            name = str(args.get("name", ""))
            return {
                "name": name,
                "value": "ami-0abcdef1234567890" if "ami" in name else "mock",
                "type": "String",
                "arn": f"arn:{partition}:ssm:{region}:{account}:parameter{name}",
                "version": 1,
                "id": name,
            }
        return None

    def _organization(self) -> dict[str, Any]:
        management = self.management_account
        accounts = {management: "management", **self.organization_accounts}

        def account(account_id: str, name: str) -> dict[str, Any]:
            return {
                "id": account_id,
                "arn": f"arn:aws:organizations::{management}:account/{self.org_id}/{account_id}",
                "email": f"{name}@example.com",
                "name": name,
                "status": "ACTIVE",
                "state": "ACTIVE",
                "joinedMethod": "CREATED",
                "joinedTimestamp": "2024-01-01T00:00:00Z",
            }

        members = [account(a, n) for a, n in accounts.items()]
        return {
            "id": self.org_id,
            "arn": f"arn:aws:organizations::{management}:organization/{self.org_id}",
            "featureSet": "ALL",
            "masterAccountId": management,
            "masterAccountArn": members[0]["arn"],
            "masterAccountEmail": members[0]["email"],
            "masterAccountName": members[0]["name"],
            "accounts": members,
            "nonMasterAccounts": members[1:],
            "awsServiceAccessPrincipals": [],
            "enabledPolicyTypes": ["SERVICE_CONTROL_POLICY"],
            "roots": [
                {
                    "id": "r-ab12",
                    "arn": f"arn:aws:organizations::{management}:root/{self.org_id}/r-ab12",
                    "name": "Root",
                    "policyTypes": [],
                }
            ],
        }


def _check_patch_baseline(name: str, inputs: Mapping[str, Any]) -> None:
    """Refuse what CreatePatchBaseline refuses (the rule and its source: ``service_rules``)."""
    rules = [
        {"ApproveAfterDays": rule.get("approveAfterDays"), "ApproveUntilDate": rule.get("approveUntilDate")}
        for rule in inputs.get("approvalRules") or []
    ]
    message = service_rules.refusal(inputs.get("operatingSystem"), rules)
    if message:
        raise ValueError(f"PatchBaseline {name}: ValidationException: {message}")


def _policy_document(args: Mapping[str, Any]) -> dict[str, Any]:
    """Render ``aws.iam.get_policy_document`` arguments the way the provider does."""
    statements = []
    for statement in args.get("statements") or []:
        rendered: dict[str, Any] = {}
        if statement.get("sid"):
            rendered["Sid"] = statement["sid"]
        rendered["Effect"] = statement.get("effect") or "Allow"
        for source, target in (
            ("actions", "Action"),
            ("notActions", "NotAction"),
            ("resources", "Resource"),
            ("notResources", "NotResource"),
        ):
            values = statement.get(source)
            if values:
                rendered[target] = values[0] if len(values) == 1 else list(values)
        for source, target in (("principals", "Principal"), ("notPrincipals", "NotPrincipal")):
            principals = statement.get(source)
            if principals:
                block: dict[str, Any] = {}
                for principal in principals:
                    ids = principal.get("identifiers") or []
                    block[principal["type"]] = ids[0] if len(ids) == 1 else list(ids)
                rendered[target] = "*" if block == {"*": "*"} else block
        conditions: dict[str, dict[str, Any]] = {}
        for condition in statement.get("conditions") or []:
            values = condition.get("values") or []
            conditions.setdefault(condition["test"], {})[condition["variable"]] = (
                values[0] if len(values) == 1 else list(values)
            )
        if conditions:
            rendered["Condition"] = conditions
        statements.append(rendered)
    return {"Version": args.get("version") or "2012-10-17", "Statement": statements}
