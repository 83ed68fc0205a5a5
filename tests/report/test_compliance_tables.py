"""The Glue table definitions checked against files laid out exactly like resource data sync's."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from components.hub import compliance_tables as ct
from tests.report.helpers import Fleet

ACCOUNTS = ["222222222222", "111111111111", "111111111111"]
REGIONS = ["us-east-1", "eu-west-1"]


def _files(fleet: Fleet, table: ct.ComplianceTable) -> list[Path]:
    files = sorted((fleet.root / fleet.spec.prefix / table.type_name).rglob("*.json"))
    assert files, table.type_name
    return files


@pytest.mark.parametrize("table", ct.TABLES, ids=lambda t: t.name)
def test_every_json_key_in_the_files_is_a_column(fleet: Fleet, table: ct.ComplianceTable) -> None:
    seen: set[str] = set()
    for path in _files(fleet, table):
        for line in path.read_text(encoding="utf-8").splitlines():
            seen |= set(json.loads(line))
    shadowed = set(ct.PARTITION_SHADOWED_KEYS.get(table.type_name, ()))
    columns = {column.name for column in table.columns}
    # Athena's SerDe matches keys case-insensitively: each key must map to a column (or a partition key).
    assert {key.lower() for key in seen - shadowed} <= columns, sorted(seen)
    assert {key.lower() for key in shadowed} <= {key.name for key in ct.PARTITION_KEYS}
    # ...and every column is filled by some key, spelled the way the sync spells it.
    assert set(table.json_keys) <= seen, sorted(set(table.json_keys) - seen)


@pytest.mark.parametrize("table", ct.TABLES, ids=lambda t: t.name)
def test_partitions_match_the_path_and_the_projection_template(fleet: Fleet, table: ct.ComplianceTable) -> None:
    accounts = fleet.spec.account_ids()
    regions = fleet.spec.region_names()
    params = ct.glue_table_parameters(table, "bucket", fleet.spec.prefix, accounts, regions)
    template = params["storage.location.template"]
    base = fleet.root / fleet.spec.prefix / table.type_name
    for path in _files(fleet, table):
        relative = path.relative_to(base).parts
        assert len(relative) == len(ct.PARTITION_KEYS) + 1
        values = {}
        for key, segment in zip(ct.PARTITION_KEYS, relative, strict=False):
            name, _, value = segment.partition("=")
            assert name == key.name
            values[name] = value
        assert values["accountid"] in params["projection.accountid.values"].split(",")
        assert values["region"] in params["projection.region.values"].split(",")
        assert values["resourcetype"] in params["projection.resourcetype.values"].split(",")
        location = template
        for name, value in values.items():
            location = location.replace("${" + name + "}", value)
        assert location == f"s3://bucket/{fleet.spec.prefix}/{table.type_name}/" + "/".join(relative[:-1]) + "/"
        # The file is named after the instance, and every line is about that instance.
        first = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
        assert first["resourceId"] == path.stem


def test_projection_parameters() -> None:
    params = ct.glue_table_parameters("aws_tag", "inv-bucket", "/sync/", ACCOUNTS, REGIONS)
    assert params == {
        "EXTERNAL": "TRUE",
        "classification": "json",
        "projection.enabled": "true",
        "projection.accountid.type": "enum",
        "projection.accountid.values": "111111111111,222222222222",
        "projection.region.type": "enum",
        "projection.region.values": "eu-west-1,us-east-1",
        "projection.resourcetype.type": "enum",
        "projection.resourcetype.values": "ManagedInstanceInventory",
        "storage.location.template": (
            "s3://inv-bucket/sync/AWS:Tag/accountid=${accountid}/region=${region}/resourcetype=${resourcetype}/"
        ),
    }
    assert ct.table_location("aws_tag", "inv-bucket", "") == "s3://inv-bucket/AWS:Tag/"


def test_catalog_table_args_shape() -> None:
    args = ct.catalog_table_args(ct.COMPLIANCE_ITEM, "managed_instances_database", "b", "p", ACCOUNTS, REGIONS)
    assert args["name"] == "aws_complianceitem"
    assert args["database_name"] == "managed_instances_database"
    assert args["table_type"] == "EXTERNAL_TABLE"
    assert [key["name"] for key in args["partition_keys"]] == ["accountid", "region", "resourcetype"]
    descriptor = args["storage_descriptor"]
    assert descriptor["location"] == "s3://b/p/AWS:ComplianceItem/"
    assert descriptor["ser_de_info"]["serialization_library"] == "org.openx.data.jsonserde.JsonSerDe"
    names = [column["name"] for column in descriptor["columns"]]
    assert "resourceid" in names and "patchseverity" in names
    assert not set(names) & {"accountid", "region", "resourcetype"}  # a column may not shadow a partition key
    assert all(column["type"] == "string" for column in descriptor["columns"])


@pytest.mark.parametrize(
    ("accounts", "regions", "message"),
    [
        (["12345"], REGIONS, "accounts: '12345' is not valid"),
        ([], REGIONS, "accounts: at least one value"),
        ("111111111111", REGIONS, "expected a list"),
        (ACCOUNTS, ["Mars-1"], "regions: 'Mars-1' is not valid"),
    ],
)
def test_bad_values_fail_with_their_place(accounts, regions, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ct.glue_table_parameters("aws_tag", "bucket", "", accounts, regions)


def test_unknown_table_and_bad_bucket() -> None:
    with pytest.raises(ValueError, match="aws_nope"):
        ct.glue_table_parameters("aws_nope", "b", "", ACCOUNTS, REGIONS)
    with pytest.raises(ValueError, match="bucket"):
        ct.table_location("aws_tag", "s3://b", "")


def test_named_queries_need_a_description(tmp_path: Path) -> None:
    (tmp_path / "Good.sql").write_text("-- Lists things.\nSELECT 1\n", encoding="utf-8")
    (good,) = ct.named_queries(tmp_path)
    assert (good.name, good.description) == ("Good", "Lists things.")
    (tmp_path / "Bad.sql").write_text("SELECT 1\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"Bad\.sql: line 1"):
        ct.named_queries(tmp_path)


def test_module_imports_no_pulumi() -> None:
    code = "import sys, components.hub.compliance_tables; print(any(m.startswith('pulumi') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
