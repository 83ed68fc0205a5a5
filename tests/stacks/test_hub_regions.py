"""A child Region the hub shares no runbooks in is one clear line: offline before the render (``patchctl preview``),
and in the program itself from the StackReference's ``regions`` (``pulumi preview``/``up``) before any child
account's provider exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components.config import ChildConfig, parse_config
from components.stacks import build
from components.stacks.hub_regions import HubRegionsError, check_hub_regions
from patchctl.cli import main
from patchctl.offline.mocks import AwsMocks
from patchctl.offline.render import render
from patchctl.stack_render import render_stack
from tests.pulumi_leftovers import collect_failed_program_leftovers

ROOT = Path(__file__).resolve().parents[2]
RAW = yaml.safe_load((ROOT / "Pulumi.child.yaml").read_text())["config"]
#: What the example hub exports (Pulumi.central.yaml: home us-east-1, regions us-east-1 and eu-west-1).
HUB_REGIONS = ["us-east-1", "eu-west-1"]
LINE = (
    "org-patching:regions: ap-south-1 is not in the central stack's regions (us-east-1, eu-west-1), so the hub "
    "shares no runbooks there: add them to the central stack's org-patching:regions and run `pulumi up -s central` "
    "first"
)


def child(**overrides: Any) -> ChildConfig:
    values = dict(RAW)
    values.update({f"org-patching:{key}": value for key, value in overrides.items()})
    cfg = parse_config(values)
    assert isinstance(cfg, ChildConfig)
    return cfg


def test_the_central_stack_exports_where_it_shares_the_runbooks(central_capture: Any) -> None:
    assert central_capture.outputs["regions"] == HUB_REGIONS  # home Region first


def test_a_region_outside_the_hubs_is_one_line_naming_the_key() -> None:
    with pytest.raises(HubRegionsError) as raised:
        check_hub_regions(child(regions=["us-east-1", "ap-south-1"]), {"regions": HUB_REGIONS})
    assert str(raised.value) == LINE
    accounts = [{"id": "222222222222", "name": "dev", "regions": ["eu-west-1", "sa-east-1", "ap-south-1"]}]
    with pytest.raises(HubRegionsError, match=r"^org-patching:accounts\[0\]\.regions: sa-east-1, ap-south-1 are not"):
        check_hub_regions(child(accounts=accounts), {"regions": HUB_REGIONS})
    check_hub_regions(child(), {"regions": HUB_REGIONS})
    check_hub_regions(child(regions=["ap-south-1"]), {"outputsVersion": "1.4"})  # a hub before 1.5: nothing to check


def test_the_offline_render_refuses_before_declaring_anything(central_capture: Any) -> None:
    with pytest.raises(HubRegionsError, match=r"^org-patching:regions: ap-south-1 is not"):
        render_stack(child(regions=["us-east-1", "ap-south-1"]), central_capture.outputs)


def test_the_program_fails_from_the_stack_reference_before_any_child_provider(central_capture: Any) -> None:
    """``pulumi preview``/``up``: the check runs inside the StackReference's apply; a pulumi.RunError is what the
    language host prints as one line. No provider of the stack registers, so nothing is written anywhere."""
    cfg = child(regions=["us-east-1", "ap-south-1"])
    mocks = AwsMocks(
        default_account=cfg.central_account_id,
        default_region=cfg.home_region,
        org_id=cfg.org_id,
        stack_outputs={cfg.hub_stack: central_capture.outputs},
        strict=True,
    )
    registered: list[str] = []
    original = mocks.new_resource

    def recording(args: Any) -> Any:
        registered.append(args.typ)
        return original(args)

    mocks.new_resource = recording  # type: ignore[method-assign]
    try:
        with pytest.raises(pulumi.RunError) as raised:
            render(lambda: build(cfg), mocks=mocks, stack="child")
    finally:
        collect_failed_program_leftovers()  # this program fails on purpose
    assert str(raised.value) == LINE
    assert registered == ["pulumi:pulumi:StackReference"]


def test_patchctl_preview_says_it_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "Pulumi.child-south.yaml"
    config.write_text(yaml.safe_dump({"config": {**RAW, "org-patching:regions": ["us-east-1", "ap-south-1"]}}))
    out = tmp_path / "preview.json"
    code = main(
        [
            "preview",
            "--stack",
            "child",
            "--config",
            str(config),
            "--hub-config",
            str(ROOT / "Pulumi.central.yaml"),
            "--json",
            str(out),
        ]
    )
    assert code == 2
    assert capsys.readouterr().err.strip() == f"error: {LINE}"
    assert not out.exists()
