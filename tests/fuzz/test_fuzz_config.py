"""Fuzz the stack config loaders: central and child (``components.config``), the admin stack
(``deployments/org_patching_admin/config.py``), and the stack file reader on arbitrary bytes.

Invariants: only the documented error escapes (``ConfigError`` / ``AdminConfigError``) and its message is one
line naming the key; a config that is accepted is well-formed: ids, regions and rates in the exact ASCII form
AWS takes (the program builds ARNs and API calls from them without checking again).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from components.config import CentralConfig, ChildConfig, load_stack_file, parse_config
from components.config_types import known_regions
from components.errors import ConfigError
from deployments.org_patching_admin import config as admin_config
from tests.fuzz import invariants, mutations

REPO = Path(__file__).resolve().parents[2]
CENTRAL = yaml.safe_load((REPO / "Pulumi.central.yaml").read_text())["config"]
CHILD = yaml.safe_load((REPO / "Pulumi.child.yaml").read_text())["config"]
ADMIN = yaml.safe_load((REPO / "deployments" / "Pulumi.admin.yaml").read_text())["config"]

# Written independently of the loader's own patterns: what AWS takes.
ACCOUNT = re.compile(r"[0-9]{12}")
ORG = re.compile(r"o-[a-z0-9]{10,32}")
OU = re.compile(r"ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32}")
RATE = re.compile(r"[1-9][0-9]*%?")
ROLE = re.compile(r"[A-Za-z0-9+=,.@_-]{1,64}")


def _rates(cfg: CentralConfig | ChildConfig) -> list[str]:
    window = cfg.patching.default_window
    rates = [window.max_concurrency, window.max_errors]
    if isinstance(cfg, CentralConfig):
        e = cfg.emergency
        rates += [e.max_concurrency, e.max_errors, e.target_location_max_concurrency, e.target_location_max_errors]
    return rates


def well_formed(cfg: CentralConfig | ChildConfig) -> bool:
    regions = [cfg.home_region, *cfg.regions]
    if isinstance(cfg, CentralConfig):
        accounts = list(cfg.accounts)
        ous = list(cfg.catalog.share_with_ous)
        roles = list(cfg.catalog.principal_role_names)
    else:
        accounts = [a.id for a in cfg.accounts or []] + list(cfg.discover.exclude if cfg.discover else [])
        regions += [r for a in cfg.accounts or [] for r in a.regions or []]
        ous = list(cfg.discover.ous) if cfg.discover else []
        roles = [cfg.deploy_role_name]
    return (
        bool(ACCOUNT.fullmatch(cfg.central_account_id))
        and bool(ORG.fullmatch(cfg.org_id))
        and all(ACCOUNT.fullmatch(a) for a in accounts)
        and all(OU.fullmatch(o) for o in ous)
        and all(r in known_regions() for r in regions)
        and all(RATE.fullmatch(r) for r in _rates(cfg))
        and all(ROLE.fullmatch(r) for r in roles)
    )


def _check_stack(target: str, raw: Any) -> None:
    case = invariants.case(target)
    try:
        cfg = parse_config(raw)
    except ConfigError as error:
        case.check(invariants.NO_ESCAPE, True)
        case.check(invariants.ONE_LINE, invariants.one_line(str(error)) and error.key.startswith("org-patching"), error)
        return
    except Exception as error:
        case.check(invariants.NO_ESCAPE, False, f"{type(error).__name__}: {error}")
        raise
    case.check(invariants.NO_ESCAPE, True)
    case.check(invariants.WELL_FORMED, well_formed(cfg), cfg)


@invariants.fuzz_settings(quick_examples=40)
@given(raw=mutations.mutate(CENTRAL))
@example(raw={**CENTRAL, "org-patching:accounts": ["222222222222\n"]})
@example(raw={**CENTRAL, "org-patching:centralAccountId": "١١١١١١١١١١١١"})
@example(raw={**CENTRAL, 7: "a key YAML reads as a number"})
def test_central_config(raw: dict[str, Any]) -> None:
    _check_stack("config loader: central stack", raw)


@invariants.fuzz_settings(quick_examples=40)
@given(raw=mutations.mutate(CHILD))
@example(raw={**CHILD, "org-patching:deployRoleName": "OrganizationAccountAccessRole\n"})
@example(raw={**CHILD, "org-patching:patching": {"\n": None}})
def test_child_config(raw: dict[str, Any]) -> None:
    _check_stack("config loader: child stack", raw)


@invariants.fuzz_settings(quick_examples=40)
@given(raw=mutations.mutate(ADMIN))
@example(raw={**ADMIN, None: "a key YAML reads as null"})
def test_admin_config(raw: dict[str, Any]) -> None:
    case = invariants.case("config loader: admin stack")
    try:
        admin_config.parse_config(raw)
    except admin_config.AdminConfigError as error:
        case.check(invariants.NO_ESCAPE, True)
        case.check(invariants.ONE_LINE, invariants.one_line(str(error)), error)
        return
    except Exception as error:
        case.check(invariants.NO_ESCAPE, False, f"{type(error).__name__}: {error}")
        raise
    case.check(invariants.NO_ESCAPE, True)


def _corrupt(text: bytes) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.just(text),
        st.integers(0, len(text)).map(lambda n: text[:n]),
        st.tuples(st.integers(0, len(text)), st.binary(min_size=1, max_size=8)).map(
            lambda t: text[: t[0]] + t[1] + text[t[0] :]
        ),
        st.binary(max_size=100),
    )


def _stack_file(config: dict[str, Any], kind: str) -> st.SearchStrategy[tuple[str, bytes]]:
    documents = mutations.mutate(config).map(lambda c: yaml.safe_dump({"config": c}).encode())
    return documents.flatmap(_corrupt).map(lambda content: (kind, content))


stack_files = st.one_of(_stack_file(CENTRAL, "stack"), _stack_file(CHILD, "stack"), _stack_file(ADMIN, "admin"))


@invariants.fuzz_settings(quick_examples=30)
@given(file=stack_files)
@example(file=("stack", b"config:\n  org-patching:stack: central\n  org-patching:orgId: o-\xff\xfe\n"))
@example(file=("admin", b"config:\n  org-patching-admin:organization: \xff\n"))
@example(file=("stack", b"config:\n  1: 2\n"))
def test_stack_file(tmp_path_factory: Any, file: tuple[str, bytes]) -> None:
    """``load_stack_file`` of both programs on the bytes of a (mutated, then corrupted) Pulumi.<stack>.yaml."""
    case = invariants.case("config loader: stack file (YAML bytes)")
    kind, content = file
    path = tmp_path_factory.mktemp("stack") / "Pulumi.fuzz.yaml"
    path.write_bytes(content)
    load, documented = (
        (load_stack_file, ConfigError)
        if kind == "stack"
        else (admin_config.load_stack_file, admin_config.AdminConfigError)
    )
    try:
        load(path)
    except documented as error:
        case.check(invariants.NO_ESCAPE, True)
        case.check(invariants.ONE_LINE, invariants.one_line(str(error)), error)
        return
    except Exception as error:
        case.check(invariants.NO_ESCAPE, False, f"{type(error).__name__}: {error}")
        raise
    case.check(invariants.NO_ESCAPE, True)
