"""DescribeInstances pages by instance as the EC2 API reference documents, and lookups by id answer like moto's.

The behaviour behind a 50,000-instance sweep on the emulator (``devkit/moto_extensions/ec2/instance_index.py``):
``MaxResults`` counts instances (5 to 1,000), a reservation is split across pages, no token on the last page, a
token EC2 never issued is refused, filters still apply, and tags read by id equal moto's ``describe_tags``.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from moto.ec2.exceptions import InvalidInstanceIdError
from moto.ec2.models import ec2_backends

from tests import aws

ACCOUNT, REGION = aws.ACCOUNTS[0], aws.REGIONS[0]


def pages(ec2: Any, **kwargs: Any) -> list[list[str]]:
    """Instance ids per page, following NextToken."""
    found: list[list[str]] = []
    token: str | None = None
    while True:
        page = ec2.describe_instances(**kwargs, **({"NextToken": token} if token else {}))
        found.append([i["InstanceId"] for r in page["Reservations"] for i in r["Instances"]])
        token = page.get("NextToken")
        if not token:
            return found


def test_pages_count_instances_split_reservations_and_end_without_a_token(moto_aws: None) -> None:
    session = aws.session(ACCOUNT, REGION)
    ec2 = session.client("ec2")
    first = aws.run_instances(session, {"environment": "Prod"}, count=7)  # one reservation of 7
    second = aws.run_instances(session, {"environment": "dev"}, count=4)
    stopped = second[0]
    ec2.stop_instances(InstanceIds=[stopped])
    every = pages(ec2, MaxResults=5)
    assert [len(p) for p in every] == [5, 5, 1]
    assert [i for p in every for i in p] == first + second  # each instance once, in launch order
    page = ec2.describe_instances(MaxResults=5, NextToken=ec2.describe_instances(MaxResults=5)["NextToken"])
    assert [len(r["Instances"]) for r in page["Reservations"]] == [2, 3]  # the first reservation, split
    # Filters apply before the page is cut; without MaxResults everything comes in one response.
    running = pages(ec2, MaxResults=5, Filters=[{"Name": "instance-state-name", "Values": ["running"]}])
    assert [i for p in running for i in p] == [i for i in first + second if i != stopped]
    assert pages(ec2) == [first + second]


@pytest.mark.parametrize("max_results", [4, 1001])
def test_max_results_outside_5_to_1000_is_refused(moto_aws: None, max_results: int) -> None:
    with pytest.raises(ClientError, match="InvalidParameterValue"):
        aws.session(ACCOUNT, REGION).client("ec2").describe_instances(MaxResults=max_results)


@pytest.mark.parametrize("token", ["not-a-token", "eyJyIjo5OTksImkiOjB9", "eyJyIjotMSwiaSI6MH0="])
def test_a_token_ec2_never_issued_is_refused(moto_aws: None, token: str) -> None:
    session = aws.session(ACCOUNT, REGION)
    aws.run_instances(session, {"environment": "Prod"}, count=2)
    with pytest.raises(ClientError, match="InvalidNextToken"):
        session.client("ec2").describe_instances(MaxResults=5, NextToken=token)


def test_lookups_by_id_answer_like_moto(moto_aws: None) -> None:
    session = aws.session(ACCOUNT, REGION)
    ids = aws.run_instances(session, {"environment": "Prod", "team": "a"}, count=3)
    backend = ec2_backends[ACCOUNT][REGION]
    instance = backend.get_instance(ids[1])
    assert instance.id == ids[1] and backend.get_instance_by_id("i-0000000000000dead") is None
    assert instance.get_tags() == backend.describe_tags(filters={"resource-id": [ids[1]]})
    with pytest.raises(InvalidInstanceIdError):
        backend.get_instance("i-0000000000000dead")
    late = aws.run_instances(session, {"environment": "dev"})[0]  # launched after the index was built
    assert backend.get_instance(late).id == late
