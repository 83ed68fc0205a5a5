"""The report's per-instance category, as SQL rendered from the tag contract (one source for both engines).

Why rendered, not written by hand in each ``.sql`` file: "exempt" and "patched by something else" are the
tag contract's decisions (``policies/tag_contract.py``: ``exemption_reason`` and
``managed_elsewhere_reason``). The Athena named queries cannot call Python, so the contract's own constants
are rendered into one block of CTEs that every category query includes with the line
``-- @include classified_instances`` (:func:`expand_includes`, applied by ``named_queries``). The
deployed named query and the offline DuckDB run therefore read the same text, and
``tests/report/test_instance_categories.py`` checks the SQL's answer against the contract's public
functions on every tag set of the test fleet plus edge cases.

Categories (every instance that is not terminated has exactly one, so they add up):

* ``exempt``: the owner opted out (``install_patch=no`` or ``patch_install=no``, any case);
* ``managed_node``: an Auto Scaling group, EKS or ECS patches it (the contract's tags);
* ``compliant`` / ``non_compliant``: the Patch compliance summary of its latest scan;
* ``never_scanned``: in SSM inventory but no Patch compliance yet.

The percentages are over the instances we are responsible for: compliant + non-compliant + never scanned
(+ unmanaged, which has no inventory at all and is added by the report from an EC2 listing).
"""

from __future__ import annotations

import re

from tag_contract import (
    ASG_MEMBER_TAG,
    ECS_TAG_KEYS,
    ECS_TAG_PREFIXES,
    EKS_RESERVED_PREFIXES,
    EKS_TAG_KEYS,
    EKS_TAG_PREFIXES,
    ENVIRONMENT_TAG,
    ENVIRONMENTS,
    EXEMPTION_TAGS,
    EXEMPTION_VALUE,
    MAINTENANCE_WINDOW_TAG,
    RESERVED_TAG_PREFIX,
)

#: Categories in the order the report shows them; the first three (and unmanaged) are "ours".
CATEGORIES: tuple[str, ...] = ("compliant", "non_compliant", "never_scanned", "exempt", "managed_node")
RESPONSIBLE: tuple[str, ...] = ("compliant", "non_compliant", "never_scanned")

_INCLUDE = re.compile(r"^[ \t]*-- @include ([a-z_]+)[ \t]*$", re.MULTILINE)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(_literal(value) for value in values) + ")"


def _starts(prefixes: tuple[str, ...]) -> str:
    # starts_with, not LIKE: '_' in a prefix would be a wildcard (the contract matches prefixes exactly).
    return " OR ".join(f"starts_with(t.key, {_literal(prefix)})" for prefix in prefixes) or "false"


def classified_instances() -> str:
    """CTEs ``instances``, ``patch``, ``contract``, ``classified`` (one row per instance not terminated)."""
    environments = "\n".join(
        f"                WHEN {_literal(env.casefold())} THEN {_literal(env)}" for env in ENVIRONMENTS
    )
    return f"""instances AS (
    -- Terminated instances never count; a missing status (older agents) counts as not terminated.
    SELECT ii.accountid, ii.region, ii.resourceid, ii.platformtype, ii.capturetime
    FROM aws_instanceinformation AS ii
    WHERE lower(coalesce(ii.instancestatus, '')) <> 'terminated'
),
patch AS (
    -- One Patch status per instance; if a node ever had two lines, NON_COMPLIANT wins (sorts last).
    SELECT cs.accountid, cs.region, cs.resourceid, max(cs.status) AS status, max(cs.executiontime) AS last_scan
    FROM aws_compliancesummary AS cs
    WHERE cs.compliancetype = 'Patch'
    GROUP BY cs.accountid, cs.region, cs.resourceid
),
contract AS (
    -- Rendered from policies/tag_contract.py (components/hub/instance_categories.py): exemption first,
    -- then managed elsewhere (ASG member, EKS, ECS), as the contract's skip_reason decides.
    SELECT
        t.accountid,
        t.region,
        t.resourceid,
        min(
            CASE
                WHEN t.key IN {_in(EXEMPTION_TAGS)} AND lower(trim(t.value)) = {_literal(EXEMPTION_VALUE)}
                    THEN t.key || '=' || t.value
            END
        ) AS exemption,
        min(
            CASE
                WHEN t.key = {_literal(ASG_MEMBER_TAG)} THEN 'Auto Scaling group ' || t.value
                -- On an instance only tags under the reserved prefix are evidence (an owner can write any other)
                WHEN NOT starts_with(t.key, {_literal(RESERVED_TAG_PREFIX)}) THEN NULL
                WHEN t.key IN {_in(EKS_TAG_KEYS)} OR {_starts((*EKS_TAG_PREFIXES, *EKS_RESERVED_PREFIXES))}
                    THEN 'EKS (tag ' || t.key || ')'
                WHEN t.key IN {_in(ECS_TAG_KEYS)} OR {_starts(ECS_TAG_PREFIXES)} THEN 'ECS (tag ' || t.key || ')'
            END
        ) AS managed_by,
        max(
            CASE WHEN t.key = {_literal(ENVIRONMENT_TAG)} THEN CASE lower(trim(t.value))
{environments}
            END END
        ) AS environment,
        max(CASE WHEN t.key = {_literal(MAINTENANCE_WINDOW_TAG)} THEN t.value END) AS maintenance_window
    FROM aws_tag AS t
    GROUP BY t.accountid, t.region, t.resourceid
),
classified AS (
    SELECT
        i.accountid,
        i.region,
        i.resourceid,
        i.platformtype,
        i.capturetime,
        coalesce(c.environment, 'Default') AS environment,
        c.maintenance_window,
        p.last_scan,
        CASE
            WHEN c.exemption IS NOT NULL THEN 'exempt'
            WHEN c.managed_by IS NOT NULL THEN 'managed_node'
            WHEN p.status = 'COMPLIANT' THEN 'compliant'
            WHEN p.status = 'NON_COMPLIANT' THEN 'non_compliant'
            ELSE 'never_scanned'
        END AS category,
        coalesce(c.exemption, c.managed_by) AS category_reason
    FROM instances AS i
    LEFT JOIN patch AS p
        ON p.accountid = i.accountid
        AND p.region = i.region
        AND p.resourceid = i.resourceid
    LEFT JOIN contract AS c
        ON c.accountid = i.accountid
        AND c.region = i.region
        AND c.resourceid = i.resourceid
)"""


def category_counts() -> str:
    """The select-list columns every ``Compliance*`` query returns over ``classified``."""
    ours = ", ".join(_literal(name) for name in RESPONSIBLE)
    return f"""count(*) AS instances,
    count_if(category IN ({ours})) AS responsible,
    count_if(category = 'compliant') AS compliant,
    count_if(category = 'non_compliant') AS non_compliant,
    count_if(category = 'never_scanned') AS unreported,
    count_if(category = 'exempt') AS exempt,
    count_if(category = 'managed_node') AS managed_node,
    round(100.0 * count_if(category = 'compliant') / nullif(count_if(category IN ({ours})), 0), 2) AS compliance_pct"""


_BLOCKS = {"classified_instances": classified_instances, "category_counts": category_counts}


def expand_includes(sql: str, where: str = "query") -> str:
    """Replace each ``-- @include <block>`` line with the rendered block; unknown names fail naming them."""

    def render(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in _BLOCKS:
            raise ValueError(f"{where}: unknown '-- @include {name}' (known: {', '.join(sorted(_BLOCKS))})")
        return _BLOCKS[name]()

    return _INCLUDE.sub(render, sql)
