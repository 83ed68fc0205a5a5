"""Override lists: missing patches minus a team's exclusions, written to the hub bucket, in 3 accounts x 2 regions."""

from __future__ import annotations

import contextlib
import importlib
import json
from typing import Any

import pytest
import yaml

from devkit.moto_extensions.awslambda.models import lambda_context
from devkit.moto_extensions.ssm.models import patch_runs
from tests import aws

app = importlib.import_module("lambda_src.override_list.app")
FUNCTION = "org-patching-override-list"

HUB = "999999999999"
BUCKET = "org-patching-patch-lists"
TEAM_BUCKET = "team-a-config"
PATCHES = [
    {
        "KBId": "KB5034441",
        "Title": "2024-01 Security Update for Windows Server (KB5034441)",
        "Classification": "SecurityUpdates",
        "Severity": "Critical",
    },
    {
        "KBId": "KB5034439",
        "Title": "2024-01 Preview of Cumulative Update",
        "Classification": "Updates",
        "Severity": "Low",
    },
    {
        "KBId": "kernel.x86_64",
        "Title": "kernel.x86_64:0:6.1.72-96.166.amzn2023",
        "Classification": "Security",
        "Severity": "Important",
    },
    {
        "KBId": "openssl.x86_64",
        "Title": 'openssl.x86_64:1:3.0.8-1.amzn2023 "quoted" : colon',
        "Classification": "Security",
        "Severity": "Critical",
    },
    {
        "KBId": "vim.x86_64",
        "Title": "vim.x86_64:2:9.0-1",
        "Classification": "Bugfix",
        "Severity": "Low",
        "State": "Installed",
    },
]


def setup_hub() -> None:
    hub = aws.session(HUB, "us-east-1").client("s3")
    hub.create_bucket(Bucket=BUCKET)


def instance_with_patches(account: str, region: str, fail: tuple[str, ...] = ()) -> str:
    sess = aws.session(account, region)
    profile = aws.create_instance_profile(sess)
    instance = aws.run_instances(sess, {"environment": "Prod"}, profile=profile)[0]
    patch_runs.seed_patches(account, region, instance, PATCHES)
    patch_runs.simulate_patch_run(account, region, [instance], "Scan")
    if fail:
        patch_runs.simulate_patch_run(
            account, region, [instance], "Install", install_override_list=list(fail), fail=fail
        )
    return instance


def put_exclusions(body: str, key: str = "exclusions.json") -> str:
    s3 = aws.session(HUB, "us-east-1").client("s3")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=TEAM_BUCKET)
    s3.put_object(Bucket=TEAM_BUCKET, Key=key, Body=body.encode())
    return f"s3://{TEAM_BUCKET}/{key}"


def invoke(event: Any, account: str, region: str) -> dict[str, Any]:
    with aws.as_account(account, region):
        return app.handler(event, lambda_context(FUNCTION, account, region))


def read(uri: str) -> dict[str, Any]:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    body = aws.session(HUB, "us-east-1").client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    return yaml.safe_load(body)


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATCH_LISTS_BUCKET", BUCKET)
    monkeypatch.delenv("EXCLUSION_LIST_URI", raising=False)


def test_lists_in_every_account_and_region_land_in_the_hub_bucket(moto_aws: None, configured: None) -> None:
    setup_hub()
    uri = put_exclusions(json.dumps({"exclude": ["kb5034441", {"title": "*Preview*", "reason": "no previews"}]}))
    for account in aws.ACCOUNTS:
        for region in aws.REGIONS:
            instance = instance_with_patches(account, region)
            result = invoke({"InstanceId": instance, "ExclusionListUri": uri}, account, region)
            assert result["InstallOverrideList"].startswith(
                f"s3://{BUCKET}/override-lists/accountid={account}/region={region}/{instance}-"
            )
            content = read(result["InstallOverrideList"])
            assert content == {
                "patches": [
                    {"id": "kernel.x86_64", "title": "kernel.x86_64:0:6.1.72-96.166.amzn2023"},
                    {"id": "openssl.x86_64", "title": 'openssl.x86_64:1:3.0.8-1.amzn2023 "quoted" : colon'},
                ]
            }
            assert set(result["excluded"]) == {"KB5034441", "KB5034439"}
            assert "no previews" in result["excluded"]["KB5034439"]
            assert result["patchCount"] == 2


def test_failed_patches_are_included_and_installed_ones_are_not(moto_aws: None, configured: None) -> None:
    setup_hub()
    account, region = aws.ACCOUNTS[1], aws.REGIONS[0]
    instance = instance_with_patches(account, region, fail=("kernel.x86_64",))
    result = invoke({"InstanceIds": [instance]}, account, region)  # no exclusion list at all
    ids = [p["id"] for p in read(result["InstallOverrideList"])["patches"]]
    assert "kernel.x86_64" in ids and "vim.x86_64" not in ids and len(ids) == 4


def test_text_exclusions_union_of_instances_and_the_default_list(
    moto_aws: None, configured: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup_hub()
    account, region = aws.ACCOUNTS[2], aws.REGIONS[1]
    first, second = instance_with_patches(account, region), instance_with_patches(account, region)
    monkeypatch.setenv(
        "EXCLUSION_LIST_URI", put_exclusions("# team A\nKB*   # no Windows updates\n\nopenssl*\n", "x.txt")
    )
    result = invoke({"InstanceIds": [first, second, first]}, account, region)
    assert result["instances"] == [first, second]
    assert read(result["InstallOverrideList"]) == {
        "patches": [{"id": "kernel.x86_64", "title": "kernel.x86_64:0:6.1.72-96.166.amzn2023"}]
    }
    assert "2-instances" in result["InstallOverrideList"]
    everything = put_exclusions('["*"]', "all.json")
    empty = invoke({"InstanceId": first, "ExclusionListUri": everything}, account, region)
    assert read(empty["InstallOverrideList"]) == {"patches": []} and empty["patchCount"] == 0


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({}, "InstanceId or InstanceIds"),
        ({"InstanceIds": []}, "InstanceId or InstanceIds"),
        ({"InstanceId": "web-1"}, "'web-1' is not an instance id"),
        ({"InstanceId": "i-0123456789abcdef0", "ExclusionListUri": "https://x/y"}, "is not s3://bucket/key"),
        ({"InstanceId": "i-0123456789abcdef0", "ExclusionListUri": "s3://team-a-config/missing.json"}, "cannot read"),
        ({"InstanceId": "i-0123456789abcdef0", "ExclusionListUri": "BAD_JSON"}, "not valid JSON"),
        ({"InstanceId": "i-0123456789abcdef0", "ExclusionListUri": "BAD_ENTRY"}, "entry 0"),
        ({"InstanceId": "i-0123456789abcdef0"}, "DescribeInstancePatches failed (InvalidInstanceId)"),
    ],
)
def test_bad_requests_fail_clearly_and_write_nothing(
    moto_aws: None, configured: None, event: dict[str, Any], message: str
) -> None:
    setup_hub()
    if event.get("ExclusionListUri") == "BAD_JSON":
        event = {**event, "ExclusionListUri": put_exclusions('{"exclude": [', "bad.json")}
    if event.get("ExclusionListUri") == "BAD_ENTRY":
        event = {**event, "ExclusionListUri": put_exclusions('[{"id": "a", "title": "b"}]', "entry.json")}
    put_exclusions("[]")  # the team bucket exists either way
    with pytest.raises(app.BadRequest, match=message.replace("(", r"\(").replace(")", r"\)")):
        invoke(event, aws.ACCOUNTS[0], aws.REGIONS[0])
    assert aws.session(HUB, "us-east-1").client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [("PATCH_LISTS_BUCKET", "", "PATCH_LISTS_BUCKET"), ("PATCH_STATES", "Missing,Broken", "PATCH_STATES")],
)
def test_bad_configuration_fails_before_any_call(
    moto_aws: None, configured: None, monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)
    counter = aws.CallCounter()
    with aws.as_account(aws.ACCOUNTS[0], aws.REGIONS[0]) as default:
        counter.attach(default.events)
        with pytest.raises(app.BadRequest, match=message):
            app.handler(
                {"InstanceId": "i-0123456789abcdef0"}, lambda_context(FUNCTION, aws.ACCOUNTS[0], aws.REGIONS[0])
            )
    assert counter.total == 0


def test_rendered_yaml_round_trips_any_title() -> None:
    patches = [{"id": "KB1", "title": "a: b \"c\" 'd' # e \u00e9 \\ f"}, {"id": "pkg.noarch", "title": ""}]
    assert yaml.safe_load(app.render(patches)) == {"patches": [patches[0], {"id": "pkg.noarch"}]}
