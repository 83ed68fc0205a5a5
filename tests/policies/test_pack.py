"""The pack as the engine and `pulumi policy publish` see it: metadata, names, schemas, docs."""

from __future__ import annotations

import json
from pathlib import Path

import pack
import tag_contract
import yaml
from pulumi_policy import StackValidationPolicy

from patchctl.offline.analyzer import InProcessAnalyzer, load_pack, reconcile_config

PACK_DIR = Path(__file__).resolve().parents[2] / "policies"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "policy-pack.md"

REQUIRED_APP_TEAM = {
    "ec2-instance-patch-tags",
    "ec2-instance-profile",
    "launch-template-patch-tags",
    "launch-template-instance-profile",
    "asg-patch-tags",
    "instance-profile-can-patch",
    # fail closed on launch paths the rules above cannot see (issue 13 item 9)
    "launch-source-visible",
    "launch-configuration-instance-profile",
    "spot-fleet-patch-tags",
    "cloudformation-ec2-visible",
    "managed-tags-not-separate",
}


def test_pack_is_publishable_python() -> None:
    metadata = yaml.safe_load((PACK_DIR / "PulumiPolicy.yaml").read_text())
    assert metadata["runtime"]["name"] == "python" and metadata["version"]
    assert "pulumi-policy==1.21.0" in (PACK_DIR / "requirements.txt").read_text().splitlines()


def test_main_assembles_the_registry() -> None:
    spec = load_pack(PACK_DIR)
    assert spec.name == "org-patching"
    assert [p.name for p in spec.policies] == [p.name for p in pack.all_policies()]
    names = {p.name for p in spec.policies}
    assert names >= REQUIRED_APP_TEAM
    assert isinstance(pack.REGISTRY["instance-profile-can-patch"].policy, StackValidationPolicy)
    assert {rule.name for rule in pack.REGISTRY.values() if rule.group == "app-team"} == REQUIRED_APP_TEAM


def test_every_policy_explains_itself_and_is_documented() -> None:
    docs = DOCS.read_text()
    for rule in pack.REGISTRY.values():
        assert rule.description and rule.remediation, rule.name
        assert rule.policy is not None and rule.policy.remediation_steps == rule.remediation
        assert f"`{rule.name}`" in docs, f"{rule.name} missing from docs/policy-pack.md"


def test_schema_defaults_are_the_contract() -> None:
    info = InProcessAnalyzer(load_pack(PACK_DIR)).GetAnalyzerInfo()
    config = reconcile_config(info)
    level, props = config["ec2-instance-patch-tags"]
    assert level == "mandatory"
    assert props == {
        "environmentTag": tag_contract.ENVIRONMENT_TAG,
        "patchGroupTag": tag_contract.PATCH_GROUP_TAG,
        "maintenanceWindowTag": tag_contract.MAINTENANCE_WINDOW_TAG,
        "environments": list(tag_contract.ENVIRONMENTS),
        "exemptionTags": list(tag_contract.EXEMPTION_TAGS),
    }
    assert config["ec2-instance-profile"][1]["instanceProfiles"] == []  # type: ignore[index]
    assert config["s3-bucket-encrypted-private"] == ("mandatory", {"projects": ["org-patching"]})
    all_advisory = reconcile_config(info, {"all": "advisory", "kms-key-rotation": "disabled"})
    assert {level for name, (level, _) in all_advisory.items() if name != "kms-key-rotation"} == {"advisory"}
    assert all_advisory["kms-key-rotation"][0] == "disabled"


def test_advisory_preset_names_every_policy() -> None:
    """``policies/presets/advisory.json`` lists each policy by name (so switching one to mandatory is
    a one-word edit) and cannot fall behind the pack: app-team rules advisory, guard rails disabled."""
    preset = json.loads((PACK_DIR / "presets" / "advisory.json").read_text())
    expected = {rule.name: "advisory" if rule.group == "app-team" else "disabled" for rule in pack.REGISTRY.values()}
    assert preset == {"all": "advisory", **expected}
    info = InProcessAnalyzer(load_pack(PACK_DIR)).GetAnalyzerInfo()
    levels = {name: level for name, (level, _) in reconcile_config(info, preset).items()}
    assert levels == expected
