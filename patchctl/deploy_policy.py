"""Least-privilege deploy-role policies, generated from the resource types a stack's preview declares.

Why generated: a hand-written deploy policy drifts from the program (a new resource type fails the first
``pulumi up`` with AccessDenied; a removed one leaves a grant nobody needs). The preview already lists every
resource type a stack manages, so the policy is derived from it: each Pulumi type maps to the IAM actions the
AWS provider calls to create, read, update, tag and delete it (:data:`TYPE_ACTIONS`; action names from the
Service Authorization Reference, checked against parliament's copy by the tests). A type the table does not
know is a :class:`~patchctl.errors.InputError` naming it, never a silent gap.

Scope: one statement per service, ``Resource: "*"`` narrowed by ``aws:ResourceAccount`` to the stack's own
accounts: the ids of most of these resources are generated (buckets, baselines, windows, rules), so their ARNs
cannot be written in advance; the condition keeps every grant inside the accounts the stack deploys to.

The generated documents are shipped in ``docs/deploy-policies/`` and a test regenerates them from the example
stacks' previews, so they cannot drift: ``central.json`` (the role that runs ``pulumi up -s central``),
``child.json`` (``org-patching-deploy`` in every child account; the bootstrap template must grant at least
these actions) and ``child-in-hub.json`` (what the child stack's principal writes in the hub: the shard's
baseline override file).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from components.shared_runbooks import SHARED_RUNBOOKS
from patchctl.errors import InputError

_TAGS = {
    "iam": [],
    "ssm": ["ssm:AddTagsToResource", "ssm:RemoveTagsFromResource", "ssm:ListTagsForResource"],
    "events": ["events:TagResource", "events:UntagResource", "events:ListTagsForResource"],
    "logs": ["logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource"],
    "lambda": ["lambda:TagResource", "lambda:UntagResource", "lambda:ListTags"],
    "sqs": ["sqs:TagQueue", "sqs:UntagQueue", "sqs:ListQueueTags"],
    "config": ["config:TagResource", "config:UntagResource", "config:ListTagsForResource"],
    "sns": ["sns:TagResource", "sns:UntagResource", "sns:ListTagsForResource"],
    "kms": ["kms:TagResource", "kms:UntagResource", "kms:ListResourceTags"],
    "glue": ["glue:TagResource", "glue:UntagResource", "glue:GetTags"],
    "athena": ["athena:TagResource", "athena:UntagResource", "athena:ListTagsForResource"],
    "dynamodb": ["dynamodb:TagResource", "dynamodb:UntagResource", "dynamodb:ListTagsOfResource"],
    "states": ["states:TagResource", "states:UntagResource", "states:ListTagsForResource"],
    "cloudwatch": ["cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource"],
    "servicecatalog": ["servicecatalog:TagResource", "servicecatalog:UntagResource"],
    "cloudformation": ["cloudformation:TagResource", "cloudformation:UntagResource"],
}

#: Pulumi resource type -> the IAM actions the AWS provider needs for its whole lifecycle (create, read and
#: refresh, update, tag, delete). Tagging actions are added per service from ``_TAGS``.
TYPE_ACTIONS: Mapping[str, tuple[str, ...]] = {
    # --- IAM (global)
    "aws:iam/role:Role": (
        "iam:CreateRole",
        "iam:GetRole",
        "iam:UpdateRole",
        "iam:UpdateRoleDescription",
        "iam:UpdateAssumeRolePolicy",
        "iam:DeleteRole",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:ListRoleTags",
        "iam:PutRolePolicy",
        "iam:GetRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:DetachRolePolicy",
        "iam:ListInstanceProfilesForRole",
    ),
    "aws:iam/rolePolicy:RolePolicy": ("iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
        "iam:ListAttachedRolePolicies",
    ),
    "aws:iam/instanceProfile:InstanceProfile": (
        "iam:CreateInstanceProfile",
        "iam:GetInstanceProfile",
        "iam:DeleteInstanceProfile",
        "iam:AddRoleToInstanceProfile",
        "iam:RemoveRoleFromInstanceProfile",
        "iam:TagInstanceProfile",
        "iam:UntagInstanceProfile",
        "iam:ListInstanceProfileTags",
        "iam:PassRole",
    ),
    # --- Systems Manager
    "aws:ssm/document:Document": (
        "ssm:CreateDocument",
        "ssm:DescribeDocument",
        "ssm:GetDocument",
        "ssm:UpdateDocument",
        "ssm:UpdateDocumentDefaultVersion",
        "ssm:DescribeDocumentPermission",
        "ssm:ModifyDocumentPermission",
        "ssm:DeleteDocument",
    ),
    "aws:ssm/association:Association": (
        "ssm:CreateAssociation",
        "ssm:DescribeAssociation",
        "ssm:UpdateAssociation",
        "ssm:DeleteAssociation",
    ),
    "aws:ssm/maintenanceWindow:MaintenanceWindow": (
        "ssm:CreateMaintenanceWindow",
        "ssm:GetMaintenanceWindow",
        "ssm:UpdateMaintenanceWindow",
        "ssm:DeleteMaintenanceWindow",
    ),
    "aws:ssm/maintenanceWindowTask:MaintenanceWindowTask": (
        "ssm:RegisterTaskWithMaintenanceWindow",
        "ssm:GetMaintenanceWindowTask",
        "ssm:UpdateMaintenanceWindowTask",
        "ssm:DeregisterTaskFromMaintenanceWindow",
        "iam:PassRole",
    ),
    "aws:ssm/resourceDataSync:ResourceDataSync": (
        "ssm:CreateResourceDataSync",
        "ssm:ListResourceDataSync",
        "ssm:DeleteResourceDataSync",
    ),
    "aws:ssm/serviceSetting:ServiceSetting": (
        "ssm:GetServiceSetting",
        "ssm:UpdateServiceSetting",
        "ssm:ResetServiceSetting",
    ),
    "aws:ssm/patchBaseline:PatchBaseline": (
        "ssm:CreatePatchBaseline",
        "ssm:GetPatchBaseline",
        "ssm:UpdatePatchBaseline",
        "ssm:DeletePatchBaseline",
    ),
    "aws:ssm/defaultPatchBaseline:DefaultPatchBaseline": (
        "ssm:RegisterDefaultPatchBaseline",
        "ssm:GetDefaultPatchBaseline",
    ),
    "aws:ssm/patchGroup:PatchGroup": (
        "ssm:RegisterPatchBaselineForPatchGroup",
        "ssm:DeregisterPatchBaselineForPatchGroup",
        "ssm:DescribePatchGroups",
    ),
    # --- Config, EventBridge, CloudWatch
    "aws:cfg/rule:Rule": ("config:PutConfigRule", "config:DescribeConfigRules", "config:DeleteConfigRule"),
    "aws:cloudwatch/eventRule:EventRule": (
        "events:PutRule",
        "events:DescribeRule",
        "events:EnableRule",
        "events:DisableRule",
        "events:DeleteRule",
    ),
    "aws:cloudwatch/eventTarget:EventTarget": (
        "events:PutTargets",
        "events:ListTargetsByRule",
        "events:RemoveTargets",
        "iam:PassRole",
    ),
    "aws:cloudwatch/eventBus:EventBus": ("events:CreateEventBus", "events:DescribeEventBus", "events:DeleteEventBus"),
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": (
        "events:PutPermission",
        "events:RemovePermission",
        "events:DescribeEventBus",
    ),
    "aws:cloudwatch/logGroup:LogGroup": (
        "logs:CreateLogGroup",
        "logs:DescribeLogGroups",
        "logs:PutRetentionPolicy",
        "logs:DeleteRetentionPolicy",
        "logs:DeleteLogGroup",
    ),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:DeleteAlarms",
    ),
    # --- Lambda, SQS, SNS, Step Functions, DynamoDB
    "aws:lambda/function:Function": (
        "lambda:CreateFunction",
        "lambda:GetFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:GetFunctionCodeSigningConfig",
        "lambda:ListVersionsByFunction",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "lambda:PublishVersion",
        "lambda:DeleteFunction",
        "lambda:GetLayerVersion",
        "iam:PassRole",
    ),
    "aws:lambda/permission:Permission": ("lambda:AddPermission", "lambda:GetPolicy", "lambda:RemovePermission"),
    "aws:sqs/queue:Queue": (
        "sqs:CreateQueue",
        "sqs:GetQueueUrl",
        "sqs:GetQueueAttributes",
        "sqs:SetQueueAttributes",
        "sqs:DeleteQueue",
    ),
    "aws:sqs/queuePolicy:QueuePolicy": ("sqs:SetQueueAttributes", "sqs:GetQueueAttributes"),
    "aws:sns/topic:Topic": ("sns:CreateTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:DeleteTopic"),
    "aws:sns/topicPolicy:TopicPolicy": ("sns:SetTopicAttributes", "sns:GetTopicAttributes"),
    "aws:sns/topicSubscription:TopicSubscription": (
        "sns:Subscribe",
        "sns:GetSubscriptionAttributes",
        "sns:SetSubscriptionAttributes",
        "sns:Unsubscribe",
    ),
    "aws:sfn/stateMachine:StateMachine": (
        "states:CreateStateMachine",
        "states:DescribeStateMachine",
        "states:UpdateStateMachine",
        "states:DeleteStateMachine",
        "iam:PassRole",
    ),
    "aws:dynamodb/table:Table": (
        "dynamodb:CreateTable",
        "dynamodb:DescribeTable",
        "dynamodb:UpdateTable",
        "dynamodb:DescribeTimeToLive",
        "dynamodb:UpdateTimeToLive",
        "dynamodb:DescribeContinuousBackups",
        "dynamodb:UpdateContinuousBackups",
        "dynamodb:DeleteTable",
    ),
    # --- S3, KMS, Glue, Athena
    "aws:s3/bucket:Bucket": (
        "s3:CreateBucket",
        "s3:ListBucket",
        "s3:GetBucketLocation",
        "s3:GetBucketTagging",
        "s3:PutBucketTagging",
        "s3:GetBucketAcl",
        "s3:GetBucketCORS",
        "s3:GetBucketWebsite",
        "s3:GetBucketLogging",
        "s3:GetBucketObjectLockConfiguration",
        "s3:GetBucketRequestPayment",
        "s3:GetAccelerateConfiguration",
        "s3:GetReplicationConfiguration",
        "s3:DeleteBucket",
    ),
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": (
        "s3:PutLifecycleConfiguration",
        "s3:GetLifecycleConfiguration",
    ),
    "aws:s3/bucketObjectv2:BucketObjectv2": ("s3:PutObject", "s3:GetObject", "s3:GetObjectTagging", "s3:DeleteObject"),
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": (
        "s3:PutBucketOwnershipControls",
        "s3:GetBucketOwnershipControls",
    ),
    "aws:s3/bucketPolicy:BucketPolicy": ("s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"),
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": (
        "s3:PutBucketPublicAccessBlock",
        "s3:GetBucketPublicAccessBlock",
    ),
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "s3:PutEncryptionConfiguration",
        "s3:GetEncryptionConfiguration",
    ),
    "aws:s3/bucketVersioning:BucketVersioning": ("s3:PutBucketVersioning", "s3:GetBucketVersioning"),
    "aws:kms/key:Key": (
        "kms:CreateKey",
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:PutKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:EnableKeyRotation",
        "kms:UpdateKeyDescription",
        "kms:ScheduleKeyDeletion",
    ),
    "aws:kms/alias:Alias": ("kms:CreateAlias", "kms:ListAliases", "kms:UpdateAlias", "kms:DeleteAlias"),
    "aws:glue/catalogDatabase:CatalogDatabase": (
        "glue:CreateDatabase",
        "glue:GetDatabase",
        "glue:UpdateDatabase",
        "glue:DeleteDatabase",
    ),
    "aws:glue/catalogTable:CatalogTable": ("glue:CreateTable", "glue:GetTable", "glue:UpdateTable", "glue:DeleteTable"),
    "aws:athena/workgroup:Workgroup": (
        "athena:CreateWorkGroup",
        "athena:GetWorkGroup",
        "athena:UpdateWorkGroup",
        "athena:DeleteWorkGroup",
    ),
    "aws:athena/namedQuery:NamedQuery": ("athena:CreateNamedQuery", "athena:GetNamedQuery", "athena:DeleteNamedQuery"),
    # --- Service Catalog, CloudFormation StackSets
    "aws:servicecatalog/portfolio:Portfolio": (
        "servicecatalog:CreatePortfolio",
        "servicecatalog:DescribePortfolio",
        "servicecatalog:UpdatePortfolio",
        "servicecatalog:DeletePortfolio",
    ),
    "aws:servicecatalog/product:Product": (
        "servicecatalog:CreateProduct",
        "servicecatalog:DescribeProductAsAdmin",
        "servicecatalog:UpdateProduct",
        "servicecatalog:DeleteProduct",
    ),
    "aws:servicecatalog/provisioningArtifact:ProvisioningArtifact": (
        "servicecatalog:CreateProvisioningArtifact",
        "servicecatalog:DescribeProvisioningArtifact",
        "servicecatalog:UpdateProvisioningArtifact",
        "servicecatalog:DeleteProvisioningArtifact",
    ),
    "aws:servicecatalog/productPortfolioAssociation:ProductPortfolioAssociation": (
        "servicecatalog:AssociateProductWithPortfolio",
        "servicecatalog:ListPortfoliosForProduct",
        "servicecatalog:DisassociateProductFromPortfolio",
    ),
    "aws:servicecatalog/principalPortfolioAssociation:PrincipalPortfolioAssociation": (
        "servicecatalog:AssociatePrincipalWithPortfolio",
        "servicecatalog:ListPrincipalsForPortfolio",
        "servicecatalog:DisassociatePrincipalFromPortfolio",
    ),
    "aws:servicecatalog/portfolioShare:PortfolioShare": (
        "servicecatalog:CreatePortfolioShare",
        "servicecatalog:DescribePortfolioShares",
        "servicecatalog:DescribePortfolioShareStatus",
        "servicecatalog:UpdatePortfolioShare",
        "servicecatalog:DeletePortfolioShare",
    ),
    "aws:servicecatalog/constraint:Constraint": (
        "servicecatalog:CreateConstraint",
        "servicecatalog:DescribeConstraint",
        "servicecatalog:UpdateConstraint",
        "servicecatalog:DeleteConstraint",
        "iam:PassRole",
    ),
    "aws:servicecatalog/tagOption:TagOption": (
        "servicecatalog:CreateTagOption",
        "servicecatalog:DescribeTagOption",
        "servicecatalog:UpdateTagOption",
        "servicecatalog:DeleteTagOption",
    ),
    "aws:servicecatalog/tagOptionResourceAssociation:TagOptionResourceAssociation": (
        "servicecatalog:AssociateTagOptionWithResource",
        "servicecatalog:ListResourcesForTagOption",
        "servicecatalog:DisassociateTagOptionFromResource",
    ),
    "aws:cloudformation/stackSet:StackSet": (
        "cloudformation:CreateStackSet",
        "cloudformation:DescribeStackSet",
        "cloudformation:UpdateStackSet",
        "cloudformation:DescribeStackSetOperation",
        "cloudformation:DeleteStackSet",
    ),
    "aws:cloudformation/stackSetInstance:StackSetInstance": (
        "cloudformation:CreateStackInstances",
        "cloudformation:DescribeStackInstance",
        "cloudformation:ListStackInstances",
        "cloudformation:UpdateStackInstances",
        "cloudformation:DescribeStackSetOperation",
        "cloudformation:DeleteStackInstances",
    ),
}


#: Actions a type needs only when its inputs set a property: (type, input) -> actions.
INPUT_ACTIONS: Mapping[tuple[str, str], tuple[str, ...]] = {
    ("aws:cloudwatch/logGroup:LogGroup", "kmsKeyId"): ("logs:AssociateKmsKey", "logs:DisassociateKmsKey"),
    # an existing role gets its boundary through PutRolePermissionsBoundary (a new one through CreateRole)
    ("aws:iam/role:Role", "permissionsBoundary"): ("iam:PutRolePermissionsBoundary",),
}


@dataclass(frozen=True)
class RetiredGrant:
    """What ``pulumi up`` needs to delete resources an earlier version of the program deployed and the current
    preview no longer declares (so :data:`TYPE_ACTIONS` cannot see them), on their exact names."""

    sid: str
    actions: tuple[str, ...]
    #: ARN templates: ``{partition}`` and ``{account}`` are filled by :func:`deploy_policy`.
    resources: tuple[str, ...]


#: Upgrading a child stack deletes the per-account runbook documents: the windows run the hub's shared copies now
#: (docs/child-stack.md, "Runbooks shared by the hub"). pulumi-aws deletes a document with ``DeleteDocument`` and
#: waits for it to go with ``DescribeDocument``; the two names are the only documents the child stack ever made.
CHILD_UPGRADE_DELETIONS: tuple[RetiredGrant, ...] = (
    RetiredGrant(
        "DeleteRetiredRunbooks",
        ("ssm:DeleteDocument", "ssm:DescribeDocument"),
        tuple(f"arn:{{partition}}:ssm:*:{{account}}:document/{name}" for name in SHARED_RUNBOOKS),
    ),
)


def needed_types(resources: Iterable[Mapping[str, Any]], accounts: Iterable[str] | None = None) -> list[str]:
    """``type`` and ``type#input`` keys of a preview's resources (``patchctl preview --json``), optionally only
    those in ``accounts``."""
    wanted = set(accounts) if accounts is not None else None
    found: set[str] = set()
    for resource in resources:
        if wanted is not None and resource.get("account") not in wanted:
            continue
        found.add(str(resource["type"]))
        inputs = resource.get("inputs") or {}
        for (resource_type, key), _ in INPUT_ACTIONS.items():
            if resource["type"] == resource_type and inputs.get(key):
                found.add(f"{resource_type}#{key}")
    return sorted(found)


def _service(action: str) -> str:
    return action.split(":", 1)[0]


def actions_for(types: Iterable[str]) -> dict[str, list[str]]:
    """service -> sorted actions for these Pulumi types (providers and components need none)."""
    found: dict[str, set[str]] = {}
    for resource_type in sorted(set(types)):
        if resource_type.startswith(("pulumi:", "org-patching:")):
            continue
        if "#" in resource_type:
            base, _, key = resource_type.partition("#")
            for action in INPUT_ACTIONS[(base, key)]:
                found.setdefault(_service(action), set()).add(action)
            continue
        if resource_type not in TYPE_ACTIONS:
            raise InputError(
                f"{resource_type}: no deploy permissions known for this resource type (patchctl/deploy_policy.py)"
            )
        actions = TYPE_ACTIONS[resource_type]
        for action in actions:
            found.setdefault(_service(action), set()).add(action)
        for service in {_service(a) for a in actions}:
            found[service].update(_TAGS.get(service, []))
    return {service: sorted(actions) for service, actions in sorted(found.items())}


def deploy_policy(
    types: Iterable[str],
    accounts: str = "${Account}",
    retired: Iterable[RetiredGrant] = (),
    partition: str = "aws",
) -> dict[str, Any]:
    """The deploy role's policy for a stack whose preview declares ``types``, plus the ``retired`` resources'
    deletions (:data:`CHILD_UPGRADE_DELETIONS` for the child stack).

    ``accounts`` fills ``aws:ResourceAccount`` and the retired grants' ARNs (the placeholder ``${Account}`` in the
    shipped documents).
    """
    statements = []
    for service, actions in actions_for(types).items():
        statements.append(
            {
                "Sid": f"Manage{service.capitalize()}",
                "Effect": "Allow",
                "Action": actions,
                # Generated ids (buckets, baselines, windows, rules) cannot be named in advance: every grant is
                # kept inside the stack's own account by aws:ResourceAccount instead.
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:ResourceAccount": accounts}},
            }
        )
    for grant in retired:
        resources = [arn.format(partition=partition, account=accounts) for arn in grant.resources]
        statements.append({"Sid": grant.sid, "Effect": "Allow", "Action": list(grant.actions), "Resource": resources})
    return {"Version": "2012-10-17", "Statement": statements}


def render_json(policy: Mapping[str, Any]) -> str:
    """The shipped form: two-space JSON with a final newline (the test compares text)."""
    return json.dumps(policy, indent=2) + "\n"
