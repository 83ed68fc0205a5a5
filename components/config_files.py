"""Reading ``Pulumi.<stack>.yaml`` offline: YAML errors with their place, and the values only the
engine can resolve (``secure:`` secrets, ESC ``environment:`` imports) replaced by placeholders
with a note, so ``patchctl preview`` works on a stack file as users write it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from .config_errors import NAMESPACE
from .errors import ConfigError

#: What the offline preview uses for a ``secure:`` value it cannot decrypt.
SECRET_PLACEHOLDER = "[secret]"

#: Placeholders for scalar keys an ESC environment may set: only keys whose placeholder is
#: valid and changes nothing but names (ids, region) in the offline preview.
ESC_PLACEHOLDERS: dict[str, str] = {
    "orgId": "o-placeholder0",
    "centralAccountId": "000000000000",
    "homeRegion": "us-east-1",
    "hubStack": "organization/org-patching/central",
}


def read_yaml(file: Path) -> Any:
    """A YAML file's document; a syntax error names its line and column (1-based, as editors count)."""
    try:
        return yaml.safe_load(file.read_text())
    except FileNotFoundError:
        raise ConfigError("config file", "does not exist", str(file)) from None
    except IsADirectoryError:
        raise ConfigError("config file", "is a directory, not a YAML file", str(file)) from None
    except UnicodeDecodeError as error:
        raise ConfigError("config file", f"is not UTF-8 text (byte {error.start})", str(file)) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or error.context or "syntax error"
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "config file"
        raise ConfigError(where, f"not valid YAML: {problem}", str(file)) from None
    except yaml.YAMLError as error:
        raise ConfigError("config file", f"is not valid YAML ({str(error).splitlines()[0]})", str(file)) from None
    except ValueError as error:  # an unquoted date that does not exist (2026-13-01): PyYAML builds a datetime.date
        raise ConfigError("config file", f"has an impossible date ({error}); write real dates", str(file)) from None


def _replace_secrets(value: Any, path: str, found: list[str]) -> Any:
    """``{secure: ...}`` (anywhere in a value) -> the placeholder; ``found`` collects the key paths."""
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            found.append(path)
            return SECRET_PLACEHOLDER
        return {k: _replace_secrets(v, f"{path}.{k}", found) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_secrets(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value


def esc_environments(document: Mapping[str, Any]) -> list[str]:
    """The Pulumi ESC environments a stack file imports (``environment: [org/env]``)."""
    imports = document.get("environment")
    if isinstance(imports, str):
        return [imports]
    if isinstance(imports, list):
        return [str(i) for i in imports]
    if isinstance(imports, dict):  # the older ``environment: {imports: [...]}`` form
        return [str(i) for i in imports.get("imports") or []]
    return []


def offline_config(document: Mapping[str, Any], notes: list[str]) -> dict[str, Any]:
    """A stack file's ``config:`` as the offline preview can use it, with a note per substitution.

    The engine decrypts ``secure:`` values and merges ESC environments before the program runs;
    offline neither is possible (no secrets provider, no Pulumi Cloud), so a secret becomes a
    placeholder and identity keys an environment may provide get placeholders when absent.
    """
    raw: dict[str, Any] = dict(document.get("config") or {})
    secrets: list[str] = []
    for key in list(raw):
        raw[key] = _replace_secrets(raw[key], key, secrets)
    if secrets:
        notes.append(
            f"{', '.join(secrets)}: secure value(s) cannot be decrypted offline; "
            f"the preview uses the placeholder {SECRET_PLACEHOLDER!r}"
        )
    environments = esc_environments(document)
    if environments:
        child_only = {"hubStack"} if raw.get(f"{NAMESPACE}:stack") != "child" else set()
        filled = [k for k in ESC_PLACEHOLDERS if f"{NAMESPACE}:{k}" not in raw and k not in child_only]
        for key in filled:
            raw[f"{NAMESPACE}:{key}"] = ESC_PLACEHOLDERS[key]
        notes.append(
            f"ESC environment(s) {', '.join(environments)} cannot be opened offline; "
            + (
                f"placeholders for {', '.join(f'{NAMESPACE}:{k}' for k in filled)}"
                if filled
                else "only the values in this file are used"
            )
        )
    return raw


def secret_hint(error: ConfigError, raw: Mapping[str, Any]) -> ConfigError:
    """A placeholder the model rejects: say the value is a secret, not that it is malformed."""
    if SECRET_PLACEHOLDER in error.problem:
        return ConfigError(
            error.key,
            "is a secure value the offline preview cannot decrypt, and a placeholder is not valid here: "
            "put a plain value in a copy of the file for --config",
            error.source,
        )
    if error.problem.startswith("is required") and esc_environments(raw):
        return ConfigError(
            error.key,
            f"is required (an ESC environment may set it, but {', '.join(esc_environments(raw))} "
            "cannot be opened offline: set it in the file)",
            error.source,
        )
    return error
