"""Fuzz the policy pack with arbitrary resources of the types it checks, through the in-process analyzer.

Each case is a small stack (1-4 resources, sometimes an explicit provider) whose properties are drawn from the
property names the policies read, with values that are right, wrong, of another type, unknown (the engine's
unknown sentinel during preview) or nested JSON. It goes through ``patchctl.offline.analyzer.evaluate``, the
engine's call sequence that ``patchctl preview`` and ``policy-check`` use. Invariant: the pack never raises,
so a stack with strange inputs gets diagnostics, never a crashed preview.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import ec2_fleet
import guard_compute
import guard_iam
import guard_storage
import iam_grants
import pytest
from google.protobuf import struct_pb2
from hypothesis import example, given
from hypothesis import strategies as st

from patchctl.offline.analyzer import InProcessAnalyzer, evaluate, load_pack
from patchctl.offline.monitor import Recorded
from tests.fuzz import invariants

TARGET = "policy pack (checked resource types)"
#: The engine's placeholder for a value not known during preview.
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
PROVIDER = "pulumi:providers:aws"

TYPES = sorted(
    {
        *ec2_fleet.INSTANCE_TYPES,
        *ec2_fleet.LAUNCH_TEMPLATE_TYPES,
        *ec2_fleet.ASG_TYPES,
        *ec2_fleet.EKS_NODE_GROUP_TYPES,
        *ec2_fleet.ECS_CAPACITY_PROVIDER_TYPES,
        *ec2_fleet.INSTANCE_PROFILE_TYPES,
        *iam_grants.ROLE_TYPES,
        *iam_grants.MANAGED_POLICY_TYPES,
        *guard_storage.BUCKET_TYPES,
        *guard_storage.SSE_TYPES,
        guard_storage.PAB_TYPE,
        guard_storage.BUCKET_POLICY_TYPE,
        *guard_storage.KMS_KEY_TYPES,
        *guard_compute.LAMBDA_TYPES,
        *guard_compute.LOG_GROUP_TYPES,
        *guard_compute.WINDOW_TYPES,
        *guard_iam.IAM_DOCUMENTS,
        *iam_grants._ROLE_LINKS,
    }
)
#: Property names the policies read (policies/*.py), at any depth.
KEYS = (
    "tags", "name", "policy", "launchTemplate", "tagSpecifications", "roleArn", "resourceType", "region",
    "policyDocument", "iamInstanceProfile", "assumeRoles", "allowedAccountIds", "sseAlgorithm",
    "serverSideEncryptionConfiguration", "runtime", "rules", "rule", "retentionInDays", "propagateAtLaunch",
    "packageType", "mixedInstancesPolicy", "managedPolicyArns", "logGroupName", "launchTemplateData", "keySpec",
    "inlinePolicies", "id", "functionName", "enableKeyRotation", "duration", "defaultTags", "cutoff",
    "customerMasterKeySpec", "arn", "applyServerSideEncryptionByDefault", "assumeRolePolicy", "role", "roles",
    "policyArn", "policyArns", "roleName", "policies", "bucket", "kmsMasterKeyId", "version", "key", "value",
    "launchTemplateSpecification", "overrides", "instanceProfile", "environment", "install_patch", "userData",
    "Statement", "Effect", "Action", "Resource", "Principal", "Condition", "AWS", "Service", "Sid",
    "StringEquals", "aws:PrincipalOrgID", "Bool", "aws:SecureTransport",
)  # fmt: skip
STRINGS = (
    UNKNOWN, "", "Prod", "no", "NO", "*", "s3:*", "Allow", "Deny", "aws:kms", "AES256", "python3.12",
    "InstanceProfileforPatching", "arn:aws:iam::123456789012:role/x",
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "$Latest", "$Default", "1", "lt-0123456789abcdef0", "Image", "Zip", "ami-0123456789abcdef0", "false",
    json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
    json.dumps({"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}}),
    "{not json", "[]",
)  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.integers(-(2**53), 2**53).map(float),
    st.sampled_from(STRINGS),
    st.text(max_size=20),
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), children, max_size=4),
    ),
    max_leaves=14,
)
props = st.dictionaries(st.sampled_from(KEYS), values, max_size=6)


def _struct(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


def _record(index: int, type_: str, properties: dict[str, Any], provider_urn: str) -> Recorded:
    urn = f"urn:pulumi:dev::app::{type_}::r{index}"
    struct = _struct(properties)
    return Recorded(
        urn=urn,
        type=type_,
        name=f"r{index}",
        custom=True,
        parent="",
        provider_ref=f"{provider_urn}::id-0" if provider_urn else "",
        providers={},
        dependencies=[],
        property_dependencies={},
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        additional_secret_outputs=[],
        aliases=[],
        custom_timeouts=None,
        inputs=properties,
        inputs_struct=struct,
        id=f"id-{index}",
        outputs=properties,
        outputs_struct=_struct(properties),
    )


stacks = st.tuples(
    st.lists(st.tuples(st.sampled_from(TYPES), props), min_size=1, max_size=4),
    st.one_of(st.none(), props),
    st.sampled_from((None, {"all": "mandatory"}, {"all": "remediate"})),
)


@pytest.fixture(scope="module")
def analyzer() -> Iterator[InProcessAnalyzer]:
    instance = InProcessAnalyzer(load_pack())
    yield instance
    instance.close()


@invariants.fuzz_settings(quick_examples=40)
@given(stack=stacks)
@example(stack=([("aws:ec2/instance:Instance", {"tags": UNKNOWN, "launchTemplate": [UNKNOWN]})], None, None))
@example(
    stack=([("aws:iam/role:Role", {"inlinePolicies": [{"policy": "{not json"}], "assumeRolePolicy": 1.0})], {}, None)
)
def test_policy_pack(analyzer: InProcessAnalyzer, stack: Any) -> None:
    case = invariants.case(TARGET)
    resources, provider_props, user_config = stack
    records = []
    provider_urn = ""
    if provider_props is not None:
        provider_urn = f"urn:pulumi:dev::app::{PROVIDER}::p"
        records.append(_record(0, PROVIDER, provider_props, ""))
        records[0].urn = provider_urn
    records += [_record(n + 1, type_, p, provider_urn) for n, (type_, p) in enumerate(resources)]
    try:
        result = evaluate(records, analyzer, project="app", stack="dev", user_config=user_config)
    except Exception as error:
        case.check(invariants.PACK_NO_CRASH, False, f"{type(error).__name__}: {error}")
        raise
    case.check(invariants.PACK_NO_CRASH, isinstance(result.violations, list))
