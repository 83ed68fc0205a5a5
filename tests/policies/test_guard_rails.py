"""Guard rails: compliant passes, each weakening is named, unknowns at preview stay quiet."""

from __future__ import annotations

import json

from policy_testing import R, U, provider, run_resource, run_stack

TLS = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
)
SSE_T = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
PAB_T = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
POL_T = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_T = "aws:s3/bucket:Bucket"
PAB_ON = {"blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True, "restrictPublicBuckets": True}


def _bucket_stack(
    *, algorithm: str = "aws:kms", pab: dict | None = None, policy: str | None = TLS, project: str = "org-patching"
) -> list[R]:
    resources = [
        R(BUCKET_T, "lake", {"bucket": "lake-123", "id": "lake-123", "arn": "arn:aws:s3:::lake-123"}, project),
        R(
            SSE_T,
            "lake-sse",
            {"bucket": "lake-123", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": algorithm}}]},
            project,
        ),
        R(PAB_T, "lake-pab", {"bucket": "lake-123", **(PAB_ON if pab is None else pab)}, project),
    ]
    if policy is not None:
        resources.append(R(POL_T, "lake-policy", {"bucket": "lake-123", "policy": policy}, project))
    return resources


def test_s3_compliant_bucket_passes() -> None:
    assert run_stack("s3-bucket-encrypted-private", _bucket_stack()) == []


def test_s3_each_missing_part_is_named() -> None:
    found = run_stack("s3-bucket-encrypted-private", _bucket_stack(algorithm="AES256", policy=None))
    messages = [message for name, message in found]
    assert all(name == "lake" for name, _ in found)
    assert any("encrypted with AES256" in m and "aws:kms" in m for m in messages)
    assert any("no bucket policy" in m and "aws:SecureTransport" in m for m in messages)
    found = run_stack("s3-bucket-encrypted-private", _bucket_stack(pab={**PAB_ON, "blockPublicPolicy": False}))
    assert [m for _, m in found] == [
        "bucket 'lake': public access block 'lake-pab' does not set blockPublicPolicy to true."
    ]


def test_s3_bucket_without_companions_fails_three_ways() -> None:
    found = run_stack("s3-bucket-encrypted-private", [R(BUCKET_T, "bare", {"bucket": "bare"}, "org-patching")])
    assert len(found) == 3
    assert {name for name, _ in found} == {"bare"}


def test_s3_joins_by_property_dependency_when_names_are_unknown_at_preview() -> None:
    resources = [
        R(BUCKET_T, "lake", {"bucket": U, "id": U}, "org-patching"),
        R(
            SSE_T,
            "lake-sse",
            {"bucket": U, "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]},
            "org-patching",
            deps={"bucket": ["lake"]},
        ),
        R(PAB_T, "lake-pab", {"bucket": U, **PAB_ON}, "org-patching", deps={"bucket": ["lake"]}),
        R(POL_T, "lake-policy", {"bucket": U, "policy": U}, "org-patching", deps={"bucket": ["lake"]}),
    ]
    assert run_stack("s3-bucket-encrypted-private", resources) == []
    # Without dependencies an unknown reference means "cannot tell": no false violation.
    for r in resources:
        r.deps = {}
    assert run_stack("s3-bucket-encrypted-private", resources) == []


def test_s3_guard_rail_ignores_other_projects_unless_configured() -> None:
    stack = _bucket_stack(policy=None, project="someone-else")
    assert run_stack("s3-bucket-encrypted-private", stack) == []
    assert len(run_stack("s3-bucket-encrypted-private", stack, config={"projects": ["someone-else"]})) == 1
    assert len(run_stack("s3-bucket-encrypted-private", stack, config={"projects": ["*"]})) == 1


# --- resource guard rails -----------------------------------------------------------------------

GR = "org-patching"


def _doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_kms_rotation() -> None:
    key = "aws:kms/key:Key"
    assert run_resource("kms-key-rotation", key, {"enableKeyRotation": True}, project=GR) == []
    [message] = run_resource("kms-key-rotation", key, {}, project=GR, resource_name="lake")
    assert message == "KMS key 'lake' does not enable automatic key rotation (enable_key_rotation=True)."
    assert run_resource("kms-key-rotation", key, {"customerMasterKeySpec": "RSA_2048"}, project=GR) == []
    assert run_resource("kms-key-rotation", key, {"enableKeyRotation": U}, project=GR) == []
    assert run_resource("kms-key-rotation", key, {}, project="app") == []  # not our stack


def test_no_admin_statements() -> None:
    admin = _doc({"Effect": "Allow", "Action": "*", "Resource": "*", "Sid": "Boom"})
    [message] = run_resource("iam-no-admin-statements", "aws:iam/policy:Policy", {"policy": admin}, project=GR)
    assert message == "Policy 'res' allows '*' on '*' (Sid Boom)."
    inline = {"inlinePolicies": [{"name": "x", "policy": admin}]}
    assert len(run_resource("iam-no-admin-statements", "aws:iam/role:Role", inline, project=GR)) == 1
    scoped = _doc(
        {"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}, {"Effect": "Deny", "Action": "*", "Resource": "*"}
    )
    assert run_resource("iam-no-admin-statements", "aws:iam/policy:Policy", {"policy": scoped}, project=GR) == []
    assert run_resource("iam-no-admin-statements", "aws:iam/policy:Policy", {"policy": U}, project=GR) == []


def test_no_wildcard_passrole() -> None:
    wild = _doc({"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": "*"})
    [message] = run_resource("iam-no-wildcard-passrole", "aws:iam/rolePolicy:RolePolicy", {"policy": wild}, project=GR)
    assert "allows iam:PassRole on *" in message
    star = _doc({"Effect": "Allow", "Action": "iam:*", "Resource": "arn:aws:iam::1:role/*"})
    assert len(run_resource("iam-no-wildcard-passrole", "aws:iam/policy:Policy", {"policy": star}, project=GR)) == 1
    named = _doc({"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::111111111111:role/x"})
    assert run_resource("iam-no-wildcard-passrole", "aws:iam/policy:Policy", {"policy": named}, project=GR) == []
    native = {"policyDocument": json.loads(wild)}
    assert len(run_resource("iam-no-wildcard-passrole", "aws-native:iam:ManagedPolicy", native, project=GR)) == 1


def test_trust_is_org_scoped() -> None:
    prov = provider("111111111111", {"allowedAccountIds": '["111111111111"]'}, project=GR)
    role = "aws:iam/role:Role"

    def trust(principal: object, condition: dict | None = None) -> list[str]:
        statement: dict = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
        if condition:
            statement["Condition"] = condition
        return run_resource("iam-trust-org-scoped", role, {"assumeRolePolicy": _doc(statement)}, project=GR, prov=prov)

    assert trust({"Service": "lambda.amazonaws.com"}) == []
    assert trust({"AWS": "arn:aws:iam::222222222222:role/org-patching-automation-administration"}) == []
    assert trust({"AWS": "arn:aws:iam::111111111111:root"}) == []  # own account
    [message] = trust({"AWS": "arn:aws:iam::222222222222:root"})
    assert message == (
        "role 'res' trust policy: account 222222222222 (whole account) without an aws:PrincipalOrgID condition."
    )
    assert trust({"AWS": "222222222222"}, {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}) == []
    assert len(trust("*")) == 1
    assert trust("*", {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-1/*"]}}) == []
    assert run_resource("iam-trust-org-scoped", role, {"assumeRolePolicy": U}, project=GR) == []


def test_lambda_runtime_allow_list_and_config() -> None:
    fn = "aws:lambda/function:Function"
    assert run_resource("lambda-runtime-allowed", fn, {"runtime": "python3.12"}, project=GR) == []
    [message] = run_resource("lambda-runtime-allowed", fn, {"runtime": "python3.8"}, project=GR, resource_name="f")
    assert message == "Lambda function 'f' uses runtime 'python3.8'; allowed: python3.12, python3.13."
    config = {"runtimes": ["python3.8"]}
    assert run_resource("lambda-runtime-allowed", fn, {"runtime": "python3.8"}, project=GR, config=config) == []
    assert run_resource("lambda-runtime-allowed", fn, {"packageType": "Image"}, project=GR) == []
    assert run_resource("lambda-runtime-allowed", fn, {"runtime": U}, project=GR) == []


def test_maintenance_window_cutoff() -> None:
    mw = "aws:ssm/maintenanceWindow:MaintenanceWindow"
    assert run_resource("maintenance-window-cutoff", mw, {"duration": 4.0, "cutoff": 1.0}, project=GR) == []
    [message] = run_resource("maintenance-window-cutoff", mw, {"duration": 2.0, "cutoff": 2.0}, project=GR)
    assert "cutoff 2h >= duration 2h" in message
    assert run_resource("maintenance-window-cutoff", mw, {"duration": U, "cutoff": 3.0}, project=GR) == []


# --- stack guard rails ---------------------------------------------------------------------------------

FN = "aws:lambda/function:Function"
LG = "aws:cloudwatch/logGroup:LogGroup"


def test_lambda_log_retention() -> None:
    fn = R(FN, "tagger", {"name": "org-patching-tag-remediation", "runtime": "python3.12"}, GR)
    group = R(LG, "tagger-logs", {"name": "/aws/lambda/org-patching-tag-remediation", "retentionInDays": 365.0}, GR)
    assert run_stack("lambda-log-retention", [fn, group]) == []
    [(name, message)] = run_stack("lambda-log-retention", [fn])
    assert name == "tagger" and "/aws/lambda/org-patching-tag-remediation" in message
    forever = R(LG, "tagger-logs", {"name": "/aws/lambda/org-patching-tag-remediation"}, GR)
    [(name, message)] = run_stack("lambda-log-retention", [fn, forever])
    assert name == "tagger-logs" and "retention_in_days" in message
    custom = R(FN, "f", {"name": "f", "loggingConfig": {"logGroup": U}}, GR, deps={"loggingConfig": ["tagger-logs"]})
    assert run_stack("lambda-log-retention", [custom, group]) == []
    assert run_stack("lambda-log-retention", [R(FN, "f", {"name": U}, GR)]) == []


def test_lambda_log_group_must_be_in_the_functions_account_and_region() -> None:
    shared = {"logGroup": "/org-patching/functions"}
    east = R(FN, "east-fn", {"name": "f", "loggingConfig": shared, "region": "us-east-1"}, GR)
    west_group = R(
        LG, "west-logs", {"name": "/org-patching/functions", "retentionInDays": 30.0, "region": "eu-west-1"}, GR
    )
    [(name, _)] = run_stack("lambda-log-retention", [east, west_group])
    assert name == "east-fn"
    east_group = R(
        LG, "east-logs", {"name": "/org-patching/functions", "retentionInDays": 30.0, "region": "us-east-1"}, GR
    )
    assert run_stack("lambda-log-retention", [east, west_group, east_group]) == []
    other_account = provider("333333333333", {}, project=GR)
    east_group.provider = other_account
    assert len(run_stack("lambda-log-retention", [east, west_group, east_group])) == 1


def _spoke(provider_props: dict, provider_name: str = "222222222222") -> list[R]:
    prov = provider(provider_name, provider_props, project=GR)
    return [R("aws:ssm/patchBaseline:PatchBaseline", "baseline", {}, GR, provider=prov)]


GOOD_PROVIDER = {
    "allowedAccountIds": '["222222222222"]',
    "assumeRoles": '[{"roleArn":"arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"}]',
}


def test_explicit_provider() -> None:
    assert run_stack("spoke-explicit-provider", _spoke(GOOD_PROVIDER)) == []
    [(_, message)] = run_stack("spoke-explicit-provider", [R("aws:ssm/patchBaseline:PatchBaseline", "b", {}, GR)])
    assert "uses the default provider" in message
    default = provider("default_7_51_1", {}, project=GR)
    found = run_stack("spoke-explicit-provider", [R("aws:iam/role:Role", "r", {}, GR, provider=default)])
    assert [m for _, m in found] == ["aws:iam/role:Role 'r' uses the default provider: pass its account's provider."]


def test_explicit_provider_config_mistakes() -> None:
    snake = {**GOOD_PROVIDER, "assumeRoles": '[{"role_arn":"arn:aws:iam::222222222222:role/x"}]'}
    [(_, message)] = run_stack("spoke-explicit-provider", _spoke(snake))
    assert "assumeRoles entry without roleArn" in message
    other = {**GOOD_PROVIDER, "assumeRoles": '[{"roleArn":"arn:aws:iam::333333333333:role/x"}]'}
    [(_, message)] = run_stack("spoke-explicit-provider", _spoke(other))
    assert "a role outside account 222222222222" in message
    [(_, message)] = run_stack("spoke-explicit-provider", _spoke({"assumeRoles": GOOD_PROVIDER["assumeRoles"]}))
    assert "sets no allowedAccountIds" in message
    messages = [m for _, m in run_stack("spoke-explicit-provider", _spoke(GOOD_PROVIDER, "spoke-provider"))]
    assert messages == ["provider 'spoke-provider' is not named by its account id."]
    unknown = {"allowedAccountIds": U, "assumeRoles": U}
    assert run_stack("spoke-explicit-provider", _spoke(unknown)) == []


def test_spoke_resource_uses_its_own_accounts_provider() -> None:
    stack = _spoke(GOOD_PROVIDER)
    stack.insert(0, R("org-patching:spoke:RegionalSpoke", "333333333333-eu-west-1", {}, GR))
    stack[1].parent = "333333333333-eu-west-1"
    assert run_stack("spoke-explicit-provider", stack) == [
        (
            "baseline",
            "aws:ssm/patchBaseline:PatchBaseline 'baseline' belongs to account 333333333333 (its component) "
            "but uses provider '222222222222' of account 222222222222.",
        )
    ]
    stack[0].name = "222222222222-eu-west-1"
    stack[1].parent = stack[0].name
    assert run_stack("spoke-explicit-provider", stack) == []
