"""``ComplianceLake``: where every account's patch compliance lands, queryable with Athena.

Resource data sync in every child account/region writes inventory and compliance into the
inventory bucket; instances write RunPatchBaseline output into the patch-log bucket under
their own account's prefix; teams' install-override lists live in the patch-lists bucket.
One customer managed key encrypts all of it. Glue tables use partition projection, so data
is queryable the moment the sync writes it (the seed's daily crawler left it up to 24 h
stale and needed a Lambda to delete a clashing column after each crawl).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .. import naming
from ..config import ComplianceConfig
from ..policy_documents import Statement, allow, document, org_principal_condition, to_json
from ..secure_bucket import SecureBucket, SecureBucketArgs
from . import compliance_tables, unmanaged_table


@dataclass
class ComplianceLakeArgs:
    org_id: str
    account_id: str
    region: str
    partition: str
    config: ComplianceConfig
    #: Child accounts and regions, for Athena partition projection.
    accounts: list[str]
    regions: list[str]


class ComplianceLake(pulumi.ComponentResource):
    key: aws.kms.Key
    inventory: SecureBucket
    patch_logs: SecureBucket
    patch_lists: SecureBucket
    athena_results: SecureBucket
    database: aws.glue.CatalogDatabase
    workgroup: aws.athena.Workgroup

    def __init__(self, name: str, args: ComplianceLakeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("org-patching:hub:ComplianceLake", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        cfg = args.config
        arn_prefix = f"arn:{args.partition}"

        # The key policy names the buckets the organization may use the key through, and the
        # buckets' encryption names the key: the buckets themselves do not depend on the key, so
        # their ARNs are handed to the key policy once they exist (no cycle in the graph).
        org_bucket_arns: pulumi.Output[list[str]]
        resolve_org_bucket_arns: Callable[[pulumi.Output[list[str]]], None]
        org_bucket_arns, resolve_org_bucket_arns = pulumi.deferred_output()
        # The inventory bucket's ARN too: the tag sweeps write their unmanaged findings there (unmanaged_table.py).
        inventory_arn: pulumi.Output[str]
        resolve_inventory_arn: Callable[[pulumi.Output[str]], None]
        inventory_arn, resolve_inventory_arn = pulumi.deferred_output()
        self.key = aws.kms.Key(
            f"{name}-key",
            description="org-patching: compliance data, patch logs and patch lists of the organization",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=to_json(_key_policy(args, org_bucket_arns, inventory_arn)),
            opts=child,
        )
        self.key_alias = aws.kms.Alias(
            f"{name}-key-alias", name=naming.COMPLIANCE_KEY_ALIAS, target_key_id=self.key.key_id, opts=child
        )

        def lake_bucket(
            suffix: str, expire_days: int, statements_for: object = None, archive_days: int = cfg.archive_after_days
        ) -> SecureBucket:
            return SecureBucket(
                f"{name}-{suffix}",
                SecureBucketArgs(
                    kms_key_arn=self.key.arn,
                    archive_after_days=archive_days,
                    expire_after_days=expire_days,
                ),
                statements_for=statements_for,
                opts=child,
            )

        org = args.org_id
        accounts = list(args.accounts)
        self.inventory = lake_bucket(
            "inventory",
            cfg.inventory_retention_days,
            lambda arn: [
                *_resource_data_sync_statements(arn, org, self.key.arn, accounts),
                *unmanaged_table.bucket_statements(arn, org, self.key.arn, args.partition),
            ],
        )
        resolve_inventory_arn(self.inventory.bucket.arn)
        self.patch_logs = lake_bucket(
            "patch-logs",
            cfg.log_retention_days,
            lambda arn: [*_patch_log_statements(arn, org, arn_prefix), *_pin_key(arn, self.key.arn)],
        )
        self.patch_lists = lake_bucket(
            "patch-lists",
            cfg.log_retention_days,
            lambda arn: [*_patch_list_statements(arn, org, arn_prefix), *_pin_key(arn, self.key.arn)],
        )
        resolve_org_bucket_arns(
            pulumi.Output.all(self.patch_logs.bucket.arn, self.patch_lists.bucket.arn).apply(
                lambda arns: [form for arn in arns for form in (arn, f"{arn}/*")]
            )
        )
        # Query results live 30 days, less than any archive age: no transition (S3 refuses an
        # expiration that is not later than the rule's transition).
        self.athena_results = lake_bucket("athena-results", 30, archive_days=0)

        self.database = aws.glue.CatalogDatabase(
            f"{name}-database",
            name=naming.GLUE_DATABASE,
            description="org-patching: SSM inventory and patch compliance from resource data sync",
            opts=child,
        )
        self.tables: list[aws.glue.CatalogTable] = []
        for table in compliance_tables.TABLES:
            # The bucket name is only known after autonaming: build the table's arguments from it.
            table_args = self.inventory.bucket.bucket.apply(functools.partial(_table_args, table, args))
            self.tables.append(
                aws.glue.CatalogTable(
                    f"{name}-{table.name}",
                    name=table.name,
                    database_name=self.database.name,
                    description=table.description,
                    table_type="EXTERNAL_TABLE",
                    parameters=table_args["parameters"],
                    partition_keys=table_args["partition_keys"],
                    storage_descriptor=table_args["storage_descriptor"],
                    opts=child,
                )
            )

        self._unmanaged_table(name, args, child)

        self.workgroup = aws.athena.Workgroup(
            f"{name}-workgroup",
            name=naming.ATHENA_WORKGROUP,
            description="org-patching compliance reporting",
            force_destroy=False,
            configuration=aws.athena.WorkgroupConfigurationArgs(
                enforce_workgroup_configuration=True,
                publish_cloudwatch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=cfg.athena_bytes_scanned_cutoff_mb * 1024 * 1024,
                result_configuration=aws.athena.WorkgroupConfigurationResultConfigurationArgs(
                    output_location=pulumi.Output.concat("s3://", self.athena_results.bucket.bucket, "/results/"),
                    encryption_configuration=aws.athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs(
                        encryption_option="SSE_KMS", kms_key_arn=self.key.arn
                    ),
                ),
            ),
            opts=child,
        )
        self.queries: dict[str, aws.athena.NamedQuery] = {}
        for query in compliance_tables.named_queries():
            self.queries[query.name] = aws.athena.NamedQuery(
                f"{name}-{query.name}",
                name=query.name,
                description=query.description,
                database=self.database.name,
                workgroup=self.workgroup.name,
                query=query.sql,
                opts=child,
            )

        self.unmanaged_query = aws.athena.NamedQuery(
            f"{name}-{unmanaged_table.NAMED_QUERY_NAME}",
            name=unmanaged_table.NAMED_QUERY_NAME,
            description=unmanaged_table.NAMED_QUERY_DESCRIPTION,
            database=self.database.name,
            workgroup=self.workgroup.name,
            query=unmanaged_table.NAMED_QUERY_SQL,
            opts=child,
        )

        self.register_outputs(
            {
                "keyArn": self.key.arn,
                "inventoryBucket": self.inventory.bucket.bucket,
                "patchLogBucket": self.patch_logs.bucket.bucket,
                "patchListBucket": self.patch_lists.bucket.bucket,
                "athenaWorkgroup": self.workgroup.name,
                "glueDatabase": self.database.name,
            }
        )

    def _unmanaged_table(self, name: str, args: ComplianceLakeArgs, child: pulumi.ResourceOptions) -> None:
        """The Glue table over the tag sweeps' unmanaged findings (``unmanaged_table.py``)."""
        table_args = self.inventory.bucket.bucket.apply(
            lambda bucket: unmanaged_table.table_args(naming.GLUE_DATABASE, bucket, args.accounts, args.regions)
        )
        self.unmanaged_table = aws.glue.CatalogTable(
            f"{name}-{naming.UNMANAGED_TABLE}",
            name=naming.UNMANAGED_TABLE,
            database_name=self.database.name,
            description=table_args["description"],
            table_type="EXTERNAL_TABLE",
            parameters=table_args["parameters"],
            partition_keys=table_args["partition_keys"],
            storage_descriptor=table_args["storage_descriptor"],
            opts=child,
        )

    def outputs(self) -> dict[str, Any]:
        """The ``compliance`` section of the central stack's outputs: where the spokes write
        (the child stack reads it through its StackReference) and where reports read."""
        return {
            "keyArn": self.key.arn,
            "inventoryBucket": self.inventory.bucket.bucket,
            "inventoryPrefix": naming.INVENTORY_PREFIX,
            "patchLogBucket": self.patch_logs.bucket.bucket,
            "patchListBucket": self.patch_lists.bucket.bucket,
            "athenaResultsBucket": self.athena_results.bucket.bucket,
            "glueDatabase": self.database.name,
            "athenaWorkgroup": self.workgroup.name,
            "namedQueries": sorted(self.queries),
        }


def _table_args(table: compliance_tables.ComplianceTable, args: ComplianceLakeArgs, bucket: str) -> dict[str, Any]:
    return compliance_tables.catalog_table_args(
        table, naming.GLUE_DATABASE, bucket, naming.INVENTORY_PREFIX, args.accounts, args.regions
    )


def _key_policy(
    args: ComplianceLakeArgs, org_bucket_arns: pulumi.Input[list[str]], inventory_arn: pulumi.Input[str]
) -> dict[str, object]:
    """Who may use the compliance key, and only for what the data flows need.

    ``org_bucket_arns``: the patch-log and patch-list buckets (bucket and object ARNs: with an S3
    Bucket Key the encryption context is the bucket's ARN, without one the object's; Amazon S3
    User Guide, "Encryption context"). ``inventory_arn``: the inventory bucket, where the tag sweeps
    write their unmanaged findings (the last statement, ``unmanaged_table.key_statement``)."""
    root = f"arn:{args.partition}:iam::{args.account_id}:root"
    org = args.org_id
    return document(
        {
            # Key administration stays with the hub account's IAM (AWS's default key policy
            # statement; without it the key becomes unmanageable). Resource "*" in a key
            # policy means "this key".
            "Sid": "HubAccountAdministers",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            # Resource data sync from every account of the organization (and nobody else's).
            "Sid": "ResourceDataSyncFromOrganization",
            "Effect": "Allow",
            "Principal": {"Service": "ssm.amazonaws.com"},
            "Action": ["kms:GenerateDataKey", "kms:Encrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceOrgID": org}},
        },
        {
            # Instance roles write patch logs and read patch lists; only through S3 in the
            # hub's region, only from the organization, only for the hub's two buckets
            # (issue 13 item 8: not any bucket an organization member encrypts with this key).
            "Sid": "OrganizationUsesKeyThroughS3",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "aws:PrincipalOrgID": org,
                    "kms:ViaService": f"s3.{args.region}.amazonaws.com",
                },
                "ArnLike": {"kms:EncryptionContext:aws:s3:arn": org_bucket_arns},
            },
        },
        {
            # The hub's CloudWatch alarms publish to the failure-alert topic, which this key
            # encrypts (components/hub/patch_events.py); SNS asks KMS on the alarm's behalf.
            "Sid": "HubAlarmsUseAlertTopic",
            "Effect": "Allow",
            "Principal": {"Service": "cloudwatch.amazonaws.com"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": args.account_id}},
        },
        {
            # CloudWatch Logs in the hub may encrypt the hub's own log groups with this key.
            "Sid": "HubLogGroups",
            "Effect": "Allow",
            "Principal": {"Service": f"logs.{args.region}.amazonaws.com"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {
                "ArnLike": {
                    "kms:EncryptionContext:aws:logs:arn": f"arn:{args.partition}:logs:{args.region}:{args.account_id}:*"
                }
            },
        },
        unmanaged_table.key_statement(inventory_arn, org, args.region, args.partition),
    )


def _resource_data_sync_statements(
    bucket_arn: pulumi.Output[str], org_id: str, key_arn: pulumi.Output[str], accounts: list[str]
) -> list[Statement]:
    """The bucket policy AWS documents for resource data sync, org-scoped with ``aws:SourceOrgID``
    (the seed had no source condition: any account could write), and one delivery statement per
    child account: SSM writes as ``ssm.amazonaws.com`` with ``aws:SourceAccount`` set to the
    syncing account, and the documented single-account form pins ``accountid=<account-id>`` in
    the resource (AWS Systems Manager User Guide, "Configuring resource data sync for Inventory"),
    so an account can only write under its own ``accountid=`` partition (issue 13 item 8). The
    accounts are the ones Athena's partition projection lists already; an account not listed is
    refused (fail closed) until the central config names it. Each statement is about 450 bytes of
    the bucket policy's 20 KB."""
    service = {"Service": "ssm.amazonaws.com"}
    source = {"StringEquals": {"aws:SourceOrgID": org_id}}
    objects = pulumi.Output.concat(bucket_arn, f"/{naming.INVENTORY_PREFIX}/*/accountid=*/*")
    delivery = [
        allow(
            ["s3:PutObject"],
            pulumi.Output.concat(bucket_arn, f"/{naming.INVENTORY_PREFIX}/*/accountid={account}/*"),
            sid=f"SSMBucketDelivery{account}",
            principal=service,
            conditions={
                "StringEquals": {
                    "aws:SourceOrgID": org_id,
                    "aws:SourceAccount": account,
                    "s3:x-amz-acl": "bucket-owner-full-control",
                    "s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn,
                }
            },
        )
        for account in accounts
    ]
    return [
        allow(["s3:GetBucketAcl"], bucket_arn, sid="SSMBucketPermissionsCheck", principal=service, conditions=source),
        *delivery,
        # Tagging writes no data; it stays organization-wide.
        allow(["s3:PutObjectTagging"], objects, sid="SSMBucketDeliveryTagging", principal=service, conditions=source),
    ]


def _pin_key(bucket_arn: pulumi.Output[str], key_arn: pulumi.Output[str]) -> list[Statement]:
    """Writes may not choose another key or another kind of encryption (issue 13 item 8): an object
    encrypted with a key the hub cannot use is lost to the reports. A request without the headers
    gets the bucket's default, which is this key, so only a header that names something else is
    refused. A negated operator on a key absent from the request is *true* (IAM User Guide,
    "Condition operators": "if the policy condition requires that the key is not matched, such as
    StringNotLike, and the right key is not present, the condition is true"), so each Deny also
    requires the header to be present (``Null: false``); without that, every write relying on the
    bucket default -- the SSM agent's command output -- would be refused."""
    objects = pulumi.Output.concat(bucket_arn, "/*")
    return [
        {
            "Sid": "DenyOtherKeys",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": {
                "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "false"},
                "StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn},
            },
        },
        {
            "Sid": "DenyOtherEncryption",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:PutObject",
            "Resource": objects,
            "Condition": {
                "Null": {"s3:x-amz-server-side-encryption": "false"},
                "StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
            },
        },
    ]


def _patch_log_statements(bucket_arn: pulumi.Output[str], org_id: str, arn_prefix: str) -> list[Statement]:
    """Instances of the organization write their patch output under their OWN account's
    prefix only (the seed let any member overwrite any other account's logs)."""
    return [
        allow(
            ["s3:PutObject"],
            pulumi.Output.concat(bucket_arn, "/${aws:PrincipalAccount}/*"),
            sid="OrganizationWritesOwnPrefix",
            principal={"AWS": "*"},
            conditions=org_principal_condition(org_id),
        ),
        allow(
            ["s3:GetBucketLocation"],
            bucket_arn,
            sid="OrganizationLocatesBucket",
            principal={"AWS": "*"},
            conditions=org_principal_condition(org_id),
        ),
    ]


def _patch_list_statements(bucket_arn: pulumi.Output[str], org_id: str, arn_prefix: str) -> list[Statement]:
    """Each account of the organization reads only its own prefix (issue 13 item 8: one team's
    lists are nobody else's business); only the override-list Lambda role writes, and only
    under its own account's prefix."""
    return [
        allow(
            ["s3:GetObject"],
            pulumi.Output.concat(bucket_arn, "/${aws:PrincipalAccount}/*"),
            sid="OrganizationReadsPatchLists",
            principal={"AWS": "*"},
            conditions=org_principal_condition(org_id),
        ),
        allow(
            ["s3:PutObject"],
            pulumi.Output.concat(bucket_arn, "/${aws:PrincipalAccount}/*"),
            sid="OverrideListFunctionWritesOwnPrefix",
            principal={"AWS": "*"},
            conditions={
                "StringEquals": {"aws:PrincipalOrgID": org_id},
                "ArnLike": {"aws:PrincipalArn": f"{arn_prefix}:iam::*:role/{naming.OVERRIDE_LIST_ROLE}"},
            },
        ),
    ]
