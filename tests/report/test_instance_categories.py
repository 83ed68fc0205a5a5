"""The report's categories are the tag contract's: the rendered SQL agrees with its public functions."""

from __future__ import annotations

import duckdb
import pytest
from tag_contract import exemption_reason, managed_elsewhere_reason

from components.hub.compliance_tables import named_queries
from components.hub.instance_categories import classified_instances, expand_includes
from patchctl.report.queries import to_duckdb
from tests.report.helpers import Fleet

#: Tag sets at the contract's edges (spellings, prefixes, a '_' that LIKE would take as a wildcard).
EDGES: list[dict[str, str]] = [
    {},
    {"install_patch": "no"},
    {"install_patch": " NO "},
    {"patch_install": "No"},
    {"install_patch": "yes"},
    {"install_patch": "nope"},
    {"aws:autoscaling:groupName": "web"},
    {"eks:nodegroup-name": "a"},
    {"eks:cluster-name": "main"},
    {"alpha.eksctl.io/nodegroup-name": "ng"},
    {"k8s.io/cluster-autoscaler/enabled": "true"},
    {"k8s_io/cluster-autoscaler/enabled": "true"},
    {"kubernetes.io/cluster/main": "owned"},
    {"AmazonECSManaged": ""},
    {"aws:ecs:clusterName": "jobs"},
    {"Name": "specs-ecs-eks"},
    {"install_patch": "no", "eks:cluster-name": "main"},
    {"environment": "Prod", "aws:autoscaling:groupName": "asg"},
]


def contract_category(tags: dict[str, str]) -> str | None:
    if exemption_reason(tags):
        return "exempt"
    if managed_elsewhere_reason(tags):
        return "managed_node"
    return None


def sql_categories(tag_sets: list[dict[str, str]]) -> dict[str, str]:
    connection = duckdb.connect()
    try:
        connection.execute(
            "CREATE TABLE aws_instanceinformation AS SELECT * FROM (VALUES ('a', 'r', 'x', 'Linux', 'Active', '')) "
            "AS t(accountid, region, resourceid, platformtype, instancestatus, capturetime) WHERE false"
        )
        connection.execute(
            "CREATE TABLE aws_compliancesummary (accountid VARCHAR, region VARCHAR, resourceid VARCHAR, "
            "compliancetype VARCHAR, status VARCHAR, executiontime VARCHAR)"
        )
        connection.execute(
            "CREATE TABLE aws_tag (accountid VARCHAR, region VARCHAR, resourceid VARCHAR, key VARCHAR, value VARCHAR)"
        )
        for index, tags in enumerate(tag_sets):
            resource = f"i-{index}"
            connection.execute(
                "INSERT INTO aws_instanceinformation VALUES ('111111111111', 'eu-west-1', ?, 'Linux', 'Active', '')",
                [resource],
            )
            for key, value in tags.items():
                connection.execute(
                    "INSERT INTO aws_tag VALUES ('111111111111', 'eu-west-1', ?, ?, ?)", [resource, key, value]
                )
        sql = to_duckdb(f"WITH {classified_instances()} SELECT resourceid, category FROM classified")
        return {str(resource): str(category) for resource, category in connection.execute(sql).fetchall()}
    finally:
        connection.close()


def test_sql_categories_are_the_contracts_on_its_edges() -> None:
    got = sql_categories(EDGES)
    for index, tags in enumerate(EDGES):
        expected = contract_category(tags) or "never_scanned"
        assert got[f"i-{index}"] == expected, tags


def test_sql_categories_are_the_contracts_on_the_fleets_tags(fleet: Fleet) -> None:
    """Every tag set the test fleet wrote, read back from its files, classified both ways."""
    connection = duckdb.connect()
    try:
        rows = connection.execute(
            "SELECT resourceId, list(Key), list(Value) FROM read_json_auto(?, format='newline_delimited') "
            "GROUP BY resourceId",
            [str(fleet.root / fleet.spec.prefix / "AWS:Tag" / "*" / "*" / "*" / "*.json")],
        ).fetchall()
    finally:
        connection.close()
    tag_sets = [dict(zip(keys, values, strict=True)) for _, keys, values in rows]
    got = sql_categories(tag_sets)
    assert {category for category in got.values()} >= {"exempt", "managed_node", "never_scanned"}
    for index, tags in enumerate(tag_sets):
        assert got[f"i-{index}"] == (contract_category(tags) or "never_scanned"), tags


def test_unknown_include_is_named() -> None:
    with pytest.raises(ValueError, match="unknown '-- @include nope'"):
        expand_includes("WITH\n-- @include nope\nSELECT 1", "X.sql")


def test_every_category_query_reads_the_rendered_contract() -> None:
    block = classified_instances()
    users = [query.name for query in named_queries() if block in query.sql]
    assert {"ComplianceSummary", "ComplianceByAccount", "ExemptedInstances", "ManagedNodes"} <= set(users)
