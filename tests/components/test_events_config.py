"""``org-patching:events`` (issue 16): its keys in the example, and bad values as one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.config import CentralConfig, load_stack_file
from tests.components.test_config_errors import CENTRAL, ROOT, error_of, write


def test_the_example_subscribes_the_platform_team() -> None:
    cfg = load_stack_file(ROOT / "Pulumi.central.yaml")
    assert isinstance(cfg, CentralConfig)
    assert cfg.events.alert_emails == ["cloud-platform@example.com"]
    assert (cfg.events.retention_days, cfg.events.dedupe_days) == (400, 14)


@pytest.mark.parametrize(
    ("new", "expected"),
    [
        (
            "      - not-an-address\n",
            "org-patching:events.alertEmails[0]: ",
        ),
        (
            "      - cloud-platform@example.com\n    dedupeDays: 0\n",
            "org-patching:events.dedupeDays: must be at least 1 (got 0)",
        ),
        (
            "      - cloud-platform@example.com\n    retentionDays: 10\n",
            "org-patching:events.retentionDays: must be at least 30 (got 10)",
        ),
        (
            "      - cloud-platform@example.com\n    dedupDays: 3\n",
            "org-patching:events.dedupDays: unknown key 'dedupDays'; did you mean 'dedupeDays'?",
        ),
    ],
)
def test_bad_events_values_are_one_line(tmp_path: Path, new: str, expected: str) -> None:
    assert "    alertEmails:\n      - cloud-platform@example.com\n" in CENTRAL
    text = CENTRAL.replace("    alertEmails:\n      - cloud-platform@example.com\n", "    alertEmails:\n" + new, 1)
    assert error_of(write(tmp_path, text)).startswith(expected)
