"""Config files as users really write them: each mistake gives one line a user acts on (where,
what is wrong, what to write instead), never pydantic's wording; secrets and ESC imports do not
break the offline reading.

The files are written the way a user edits ``Pulumi.<stack>.yaml`` (text, not dicts), so the
YAML parser's own behaviour (unquoted numbers, line numbers) is part of what is tested.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from components.config import SECRET_PLACEHOLDER, CentralConfig, ChildConfig, load_stack_file
from components.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
CHILD = (ROOT / "Pulumi.child.yaml").read_text()
CENTRAL = (ROOT / "Pulumi.central.yaml").read_text()


def write(tmp_path: Path, text: str, name: str = "Pulumi.test.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_stack_file(path)
    message = str(caught.value)
    assert "\n" not in message, "a config error is one line"
    assert message.startswith(f"{path}: ")
    assert "Input should" not in message and "pydantic" not in message, message
    return message.removeprefix(f"{path}: ")


def test_malformed_yaml_names_line_and_column(tmp_path: Path) -> None:
    text = CHILD.replace("  org-patching:homeRegion: us-east-1\n", "  org-patching:homeRegion: us-east-1\n   bad: [x\n")
    line = text.splitlines().index("   bad: [x") + 1
    message = error_of(write(tmp_path, text))
    assert message.startswith(f"line {line}, column "), message
    assert "not valid YAML" in message


def test_tab_indentation_names_line_and_column(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "config:\n\torg-patching:stack: child\n"))
    assert message.startswith("line 2, column 1: not valid YAML"), message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            '    - id: "222222222222"\n',
            "    - id: 222222222222\n",
            'org-patching:accounts[0].id: quote the account id: write "222222222222" '
            "(unquoted, YAML reads it as a number)",
        ),
        (
            'org-patching:centralAccountId: "111111111111"\n',
            "org-patching:centralAccountId: 111111111111\n",
            'org-patching:centralAccountId: quote the account id: write "111111111111" '
            "(unquoted, YAML reads it as a number)",
        ),
        (
            # 0-prefixed, only octal digits: YAML 1.1 reads it as an octal number
            '    - id: "222222222222"\n',
            "    - id: 012345670123\n",
            "org-patching:accounts[0].id: quote the account id: unquoted, YAML read it as the number 1402433619 "
            "and lost digits (leading zeros); write all 12 digits in quotes",
        ),
    ],
)
def test_unquoted_account_id_says_quote_it(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in CHILD
    assert error_of(write(tmp_path, CHILD.replace(old, new))) == expected


def test_unquoted_account_id_in_the_central_list(tmp_path: Path) -> None:
    text = CENTRAL.replace('    - "333333333333"\n', "    - 333333333333\n")
    assert error_of(write(tmp_path, text)) == (
        'org-patching:accounts[1]: quote the account id: write "333333333333" (unquoted, YAML reads it as a number)'
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "org-patching:orgId:",
            "org-patching:orgid:",
            "org-patching:orgid: unknown key 'orgid'; did you mean 'orgId'?",
        ),
        (
            "org-patching:deployRoleName:",
            "org-patching:deployRolName:",
            "org-patching:deployRolName: unknown key 'deployRolName'; did you mean 'deployRoleName'?",
        ),
        (
            "      durationHours: 4\n",
            "      durationHour: 4\n",
            "org-patching:patching.defaultWindow.durationHour: unknown key 'durationHour'; "
            "did you mean 'durationHours'?",
        ),
        (
            "      name: workloads-dev\n",
            "      nmae: workloads-dev\n",
            "org-patching:accounts[0].nmae: unknown key 'nmae'; did you mean 'name'?",
        ),
        ("org-patching:stack:", "org-patching:stak:", "org-patching:stak: unknown key 'stak'; did you mean 'stack'?"),
    ],
)
def test_misspelled_key_names_it_and_the_intended_one(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in CHILD
    assert error_of(write(tmp_path, CHILD.replace(old, new, 1))) == expected


def test_unknown_key_with_no_close_match_lists_the_known_ones(tmp_path: Path) -> None:
    text = CHILD.replace("      cutoffHours: 1\n", "      cutoffHours: 1\n      zzz: 1\n")
    message = error_of(write(tmp_path, text))
    assert message.startswith("org-patching:patching.defaultWindow.zzz: unknown key 'zzz' (known keys here: ")
    assert "durationHours" in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "      durationHours: 4\n",
            "      durationHours: four\n",
            "org-patching:patching.defaultWindow.durationHours: must be a whole number (got 'four')",
        ),
        (
            "      durationHours: 4\n",
            "      durationHours: 30\n",
            "org-patching:patching.defaultWindow.durationHours: must be at most 24 (got 30)",
        ),
        (
            "      operation: Install\n",
            "      operation: install\n",
            "org-patching:patching.defaultWindow.operation: must be 'Scan' or 'Install' (got 'install')",
        ),
        (
            "  org-patching:regions:\n    - us-east-1\n    - eu-west-1\n",
            "  org-patching:regions: us-east-1\n",
            "org-patching:regions: must be a list (got 'us-east-1')",
        ),
        (
            "      name: workloads-dev\n",
            "      name: yes\n",
            "org-patching:accounts[0].name: write this value in quotes: unquoted, YAML reads it as true/false "
            "(got True)",
        ),
    ],
)
def test_wrong_types_are_plain_sentences(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in CHILD
    assert error_of(write(tmp_path, CHILD.replace(old, new, 1))) == expected


def test_secure_values_become_placeholders_with_a_note(tmp_path: Path) -> None:
    text = CHILD.replace(
        "  org-patching:deployRoleName: org-patching-deploy\n",
        "  org-patching:deployRoleName: org-patching-deploy\n"
        "  org-patching:externalId:\n    secure: v1:abc123:ZmFrZS1jaXBoZXJ0ZXh0\n",
    )
    notes: list[str] = []
    cfg = load_stack_file(write(tmp_path, text), notes)
    assert isinstance(cfg, ChildConfig) and cfg.external_id == SECRET_PLACEHOLDER
    assert notes == [
        f"org-patching:externalId: secure value(s) cannot be decrypted offline; "
        f"the preview uses the placeholder {SECRET_PLACEHOLDER!r}"
    ]


def test_a_secret_where_a_placeholder_cannot_stand_says_so(tmp_path: Path) -> None:
    text = CHILD.replace("  org-patching:orgId: o-exampleorg01\n", "  org-patching:orgId:\n    secure: v1:abc:def\n")
    assert error_of(write(tmp_path, text)) == (
        "org-patching:orgId: is a secure value the offline preview cannot decrypt, and a placeholder is not "
        "valid here: put a plain value in a copy of the file for --config"
    )


def test_esc_environment_fills_identity_keys_with_placeholders(tmp_path: Path) -> None:
    text = "environment:\n  - acme/patching-prod\n" + CENTRAL.replace("  org-patching:orgId: o-exampleorg01\n", "")
    text = text.replace('  org-patching:centralAccountId: "111111111111"\n', "")
    notes: list[str] = []
    cfg = load_stack_file(write(tmp_path, text), notes)
    assert isinstance(cfg, CentralConfig)
    assert (cfg.org_id, cfg.central_account_id, cfg.home_region) == ("o-placeholder0", "000000000000", "us-east-1")
    assert notes == [
        "ESC environment(s) acme/patching-prod cannot be opened offline; placeholders for "
        "org-patching:orgId, org-patching:centralAccountId"
    ]


def test_esc_environment_without_a_placeholder_says_where_the_value_may_be(tmp_path: Path) -> None:
    text = "environment: [acme/patching]\n" + CENTRAL.replace(
        '  org-patching:accounts:\n    - "222222222222"\n    - "333333333333"\n', ""
    )
    assert error_of(write(tmp_path, text)) == (
        "org-patching:accounts: is required (an ESC environment may set it, but acme/patching cannot be opened "
        "offline: set it in the file)"
    )


def test_missing_stack_key_is_required(tmp_path: Path) -> None:
    assert error_of(write(tmp_path, CHILD.replace("  org-patching:stack: child\n", ""))) == (
        "org-patching:stack: is required: 'central' or 'child'"
    )
