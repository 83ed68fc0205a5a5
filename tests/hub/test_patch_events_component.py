"""``PatchEvents`` in the rendered central stack: the org-scoped bus, the lake's events bucket and
table, the alert topic, the functions' least-privilege roles and the alarms."""

from __future__ import annotations

import json
from typing import Any

import parliament

from components import event_patterns, naming
from components.hub import patch_event_table
from tests.policy_eval import role_policy_documents


def records(capture: Any, type_token: str, prefix: str = "hub-events") -> list[Any]:
    return [r for r in capture.of_type(type_token) if r.name.startswith(prefix)]


def one(capture: Any, type_token: str, name: str) -> dict[str, Any]:
    found = [r for r in capture.of_type(type_token) if r.name == name]
    assert len(found) == 1, f"{type_token} {name}: {len(found)}"
    return dict(found[0].inputs)


def test_bus_accepts_the_organization_only(central_capture: Any, central_config: Any) -> None:
    bus = one(central_capture, "aws:cloudwatch/eventBus:EventBus", "hub-events-bus")
    assert bus["name"] == naming.PATCH_EVENT_BUS
    policy = json.loads(
        one(central_capture, "aws:cloudwatch/eventBusPolicy:EventBusPolicy", "hub-events-bus-policy")["policy"]
    )
    [statement] = policy["Statement"]
    assert statement["Action"] == ["events:PutEvents"]
    assert statement["Principal"] == "*"
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": central_config.org_id}}


def test_events_bucket_is_a_lake_bucket(central_capture: Any) -> None:
    key = one(central_capture, "aws:kms/key:Key", "hub-compliance-key")
    assert key  # the lake's key encrypts the events bucket too
    encryption = one(
        central_capture,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "hub-events-bucket-encryption",
    )
    rule = encryption["rules"][0]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    assert rule["bucketKeyEnabled"] is True
    policy = json.loads(one(central_capture, "aws:s3/bucketPolicy:BucketPolicy", "hub-events-bucket-policy")["policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["DenyInsecureTransport"]


def test_table_projects_the_partitions_the_function_writes(central_capture: Any, central_config: Any) -> None:
    table = one(central_capture, "aws:glue/catalogTable:CatalogTable", "hub-events-table")
    assert table["name"] == naming.PATCH_EVENTS_TABLE
    assert [p["name"] for p in table["partitionKeys"]] == ["accountid", "region", "dt"]
    columns = [c["name"] for c in table["storageDescriptor"]["columns"]]
    assert "source" in columns
    assert not set(columns) & {"accountid", "region", "dt"}  # Athena refuses a column named like a partition
    parameters = table["parameters"]
    assert parameters["projection.accountid.values"] == ",".join(sorted(central_config.accounts))
    assert parameters["projection.dt.range"].endswith(",NOW")
    assert parameters["storage.location.template"].endswith(
        f"/{naming.PATCH_EVENTS_PREFIX}/accountid=${{accountid}}/region=${{region}}/dt=${{dt}}/"
    )
    query = one(central_capture, "aws:athena/namedQuery:NamedQuery", "hub-events-query")
    assert query["name"] == patch_event_table.NAMED_QUERY_NAME
    assert f'"{naming.PATCH_EVENTS_TABLE}"' in query["query"]


def test_rules_carry_the_shared_patterns(central_capture: Any) -> None:
    rules = {r.name: dict(r.inputs) for r in records(central_capture, "aws:cloudwatch/eventRule:EventRule")}
    assert json.loads(rules["hub-events-archive"]["eventPattern"]) == event_patterns.archive_pattern()
    assert rules["hub-events-archive"]["eventBusName"] == naming.PATCH_EVENT_BUS
    assert json.loads(rules["hub-events-failures"]["eventPattern"]) == event_patterns.forwarded_failures_pattern()
    rollout = json.loads(rules["hub-events-rollout-failures"]["eventPattern"])
    assert rules["hub-events-rollout-failures"]["eventBusName"] == "default"
    assert rollout["$or"][0]["detail-type"] == [event_patterns.ROLLOUT_FINISHED]
    for target in records(central_capture, "aws:cloudwatch/eventTarget:EventTarget"):
        assert target.inputs["deadLetterConfig"]["arn"], target.name


def test_alert_topic_uses_the_hub_key_and_alarms_publish_to_it(central_capture: Any) -> None:
    topic = one(central_capture, "aws:sns/topic:Topic", "hub-events-alerts")
    key_arn = topic["kmsMasterKeyId"]
    assert key_arn.startswith("arn:") and ":kms:" in key_arn
    alarms = records(central_capture, "aws:cloudwatch/metricAlarm:MetricAlarm")
    metrics = sorted((a.inputs["namespace"], a.inputs["metricName"]) for a in alarms)
    assert metrics == [("AWS/Lambda", "Errors")] * 3 + [("AWS/SQS", "ApproximateNumberOfMessagesVisible")]
    assert {a.inputs["alarmActions"][0] for a in alarms} == {topic_arn(central_capture)}


def topic_arn(capture: Any) -> str:
    [topic] = [r for r in capture.of_type("aws:sns/topic:Topic") if r.name == "hub-events-alerts"]
    return str(topic.outputs["arn"])


def test_key_lets_the_hub_alarms_use_the_topic(central_capture: Any, central_config: Any) -> None:
    policy = json.loads(one(central_capture, "aws:kms/key:Key", "hub-compliance-key")["policy"])
    [statement] = [s for s in policy["Statement"] if s["Sid"] == "HubAlarmsUseAlertTopic"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": central_config.central_account_id}}


def test_function_roles_are_narrow_and_lint_clean(central_capture: Any) -> None:
    roles = records(central_capture, "aws:iam/role:Role")
    assert len(roles) == 2
    problems = []
    for role in roles:
        trust = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert [t["Principal"] for t in trust] == [{"Service": "lambda.amazonaws.com"}]
        assert all("aws:SourceAccount" in t["Condition"]["StringEquals"] for t in trust)
        texts = role_policy_documents(central_capture, role)
        assert len(texts) == 1, role.name  # its one RolePolicy
        for text in texts:
            for finding in parliament.analyze_policy_string(text, include_community_auditors=False).findings:
                problems.append(f"{role.name}: {finding.issue} {finding.detail}")
            for statement in json.loads(text)["Statement"]:
                resources = statement.get("Resource", [])
                assert "*" not in (resources if isinstance(resources, list) else [resources]), role.name
    assert problems == []


def test_functions_are_configured_for_their_handlers(central_capture: Any) -> None:
    archive = one(central_capture, "aws:lambda/function:Function", "hub-events-archive")
    assert archive["name"] == naming.PATCH_EVENTS_FUNCTION
    assert archive["environment"]["variables"]["EVENTS_PREFIX"] == naming.PATCH_EVENTS_PREFIX
    alerts = one(central_capture, "aws:lambda/function:Function", "hub-events-alerts")
    variables = alerts["environment"]["variables"]
    assert variables["RUNBOOKS"].split(",") == list(event_patterns.RUNBOOKS)
    assert set(variables["SUPPRESSED_STARTERS"].split(",")) == {
        naming.MAINTENANCE_WINDOW_ROLE,
        naming.AUTOMATION_ADMINISTRATION_ROLE,
    }
    for function in (archive, alerts):
        assert function["deadLetterConfig"]["targetArn"]
