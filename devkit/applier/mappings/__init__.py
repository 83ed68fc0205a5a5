"""One module per service; importing this package registers every mapping."""

from . import analytics, catalog, cloudformation, compute, dynamodb, events, iam, kms, s3, ssm

__all__ = ["analytics", "catalog", "cloudformation", "compute", "dynamodb", "events", "iam", "kms", "s3", "ssm"]
