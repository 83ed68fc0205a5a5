"""Glue Data Catalog and Athena: the compliance lake's database, tables, workgroup and queries."""

from __future__ import annotations

from typing import Any

import boto3

from ..registry import Created, Target, mapping, missing_is_none


def _read_database(session: boto3.session.Session, _: str, outputs: dict[str, Any]) -> Any:
    client = session.client("glue")
    return missing_is_none(lambda: client.get_database(Name=str(outputs["name"]))["Database"])


@mapping("aws:glue/catalogDatabase:CatalogDatabase", _read_database)
def database(target: Target) -> Created:
    i = target.inputs
    name = target.autoname()
    database_input: dict[str, Any] = {"Name": name}
    if i.get("description"):
        database_input["Description"] = i["description"]
    if i.get("locationUri"):
        database_input["LocationUri"] = i["locationUri"]
    if i.get("parameters"):
        database_input["Parameters"] = dict(i["parameters"])
    target.client("glue").create_database(DatabaseInput=database_input)
    return Created(
        f"{target.account}:{name}",
        {"name": name, "arn": f"arn:aws:glue:{target.region}:{target.account}:database/{name}"},
    )


def _columns(items: Any) -> list[dict[str, str]]:
    columns = []
    for column in items or []:
        rendered = {"Name": column["name"], "Type": column["type"]}
        if column.get("comment"):
            rendered["Comment"] = column["comment"]
        columns.append(rendered)
    return columns


def _storage(descriptor: dict[str, Any]) -> dict[str, Any]:
    rendered: dict[str, Any] = {"Columns": _columns(descriptor.get("columns"))}
    for source, dest in (("location", "Location"), ("inputFormat", "InputFormat"), ("outputFormat", "OutputFormat")):
        if descriptor.get(source):
            rendered[dest] = descriptor[source]
    serde = descriptor.get("serDeInfo")
    if serde:
        rendered["SerdeInfo"] = {
            k: v
            for k, v in (
                ("Name", serde.get("name")),
                ("SerializationLibrary", serde.get("serializationLibrary")),
                ("Parameters", dict(serde.get("parameters") or {})),
            )
            if v
        }
    return rendered


def _read_table(session: boto3.session.Session, _: str, outputs: dict[str, Any]) -> Any:
    client = session.client("glue")
    return missing_is_none(
        lambda: client.get_table(DatabaseName=str(outputs["databaseName"]), Name=str(outputs["name"]))["Table"]
    )


@mapping("aws:glue/catalogTable:CatalogTable", _read_table)
def table(target: Target) -> Created:
    i = target.inputs
    name = str(i["name"])
    table_input: dict[str, Any] = {"Name": name}
    for source, dest in (("description", "Description"), ("tableType", "TableType"), ("owner", "Owner")):
        if i.get(source):
            table_input[dest] = i[source]
    if i.get("parameters"):
        table_input["Parameters"] = dict(i["parameters"])
    if i.get("partitionKeys"):
        table_input["PartitionKeys"] = _columns(i["partitionKeys"])
    if i.get("storageDescriptor"):
        table_input["StorageDescriptor"] = _storage(i["storageDescriptor"])
    target.client("glue").create_table(DatabaseName=str(i["databaseName"]), TableInput=table_input)
    database_name = i["databaseName"]
    return Created(
        f"{target.account}:{database_name}:{name}",
        {"arn": f"arn:aws:glue:{target.region}:{target.account}:table/{database_name}/{name}"},
    )


def _read_workgroup(session: boto3.session.Session, name: str, _: dict[str, Any]) -> Any:
    client = session.client("athena")
    return missing_is_none(lambda: client.get_work_group(WorkGroup=name)["WorkGroup"], "InvalidRequestException")


@mapping("aws:athena/workgroup:Workgroup", _read_workgroup)
def workgroup(target: Target) -> Created:
    i = target.inputs
    name = target.autoname()
    config = i.get("configuration") or {}
    rendered: dict[str, Any] = {}
    for source, dest in (
        ("enforceWorkgroupConfiguration", "EnforceWorkGroupConfiguration"),
        ("publishCloudwatchMetricsEnabled", "PublishCloudWatchMetricsEnabled"),
        ("requesterPaysEnabled", "RequesterPaysEnabled"),
    ):
        if config.get(source) is not None:
            rendered[dest] = bool(config[source])
    if config.get("bytesScannedCutoffPerQuery"):
        rendered["BytesScannedCutoffPerQuery"] = int(config["bytesScannedCutoffPerQuery"])
    result = config.get("resultConfiguration")
    if result:
        result_rendered: dict[str, Any] = {}
        if result.get("outputLocation"):
            result_rendered["OutputLocation"] = result["outputLocation"]
        encryption = result.get("encryptionConfiguration")
        if encryption:
            result_rendered["EncryptionConfiguration"] = {"EncryptionOption": encryption["encryptionOption"]}
            if encryption.get("kmsKeyArn"):
                result_rendered["EncryptionConfiguration"]["KmsKey"] = encryption["kmsKeyArn"]
        rendered["ResultConfiguration"] = result_rendered
    request: dict[str, Any] = {"Name": name, "Configuration": rendered}
    if i.get("description"):
        request["Description"] = i["description"]
    if target.tags:
        request["Tags"] = target.tag_list()
    target.client("athena").create_work_group(**request)
    return Created(name, {"name": name, "arn": f"arn:aws:athena:{target.region}:{target.account}:workgroup/{name}"})


def _read_query(session: boto3.session.Session, query_id: str, _: dict[str, Any]) -> Any:
    client = session.client("athena")
    return missing_is_none(
        lambda: client.get_named_query(NamedQueryId=query_id)["NamedQuery"], "InvalidRequestException"
    )


@mapping("aws:athena/namedQuery:NamedQuery", _read_query)
def named_query(target: Target) -> Created:
    i = target.inputs
    request: dict[str, Any] = {
        "Name": target.autoname(),
        "Database": str(i["database"]),
        "QueryString": str(i["query"]),
    }
    if i.get("description"):
        request["Description"] = i["description"]
    if i.get("workgroup"):
        request["WorkGroup"] = str(i["workgroup"])
    query_id = target.client("athena").create_named_query(**request)["NamedQueryId"]
    return Created(query_id)
