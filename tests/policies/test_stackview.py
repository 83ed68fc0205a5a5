"""``stackview``: joins across a stack by property dependency first, then by value."""

from __future__ import annotations

from policy_testing import R, U, stack_resources
from stackview import StackView

BUCKET = "aws:s3/bucket:Bucket"
PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"
INSTANCE = "aws:ec2/instance:Instance"


def _view(*resources: R) -> StackView:
    return StackView(stack_resources(list(resources)))


def test_nodes_read_plain_props_with_unknowns_marked() -> None:
    view = _view(R(BUCKET, "lake", {"bucket": "lake-1", "arn": U}))
    [node] = view.of_type(BUCKET)
    assert node.name == "lake" and node.type == BUCKET and view.by_urn[node.urn] is node
    assert node.identifiers("bucket", "arn") == {"lake-1"}  # unknown values are no identifiers


def test_points_to_by_value_id_and_arn_suffix() -> None:
    view = _view(
        R(PROFILE, "profile", {"name": "app", "id": "app", "arn": "arn:aws:iam::1:instance-profile/app"}),
        R(INSTANCE, "by-name", {"iamInstanceProfile": "app"}),
        R(INSTANCE, "by-arn", {"iamInstanceProfile": "arn:aws:iam::1:instance-profile/app"}),
        R(INSTANCE, "elsewhere", {"iamInstanceProfile": "someone-elses"}),
        R(INSTANCE, "none", {}),
    )
    profiles = view.pool(PROFILE, ids=("name", "arn"))
    assert view.pool(PROFILE, ids=("name", "arn")) is profiles  # cached per stack
    found = {node.name: view.referenced(node, "iamInstanceProfile", profiles) for node in view.of_type(INSTANCE)}
    assert {name: [n.name for n in nodes or []] for name, nodes in found.items()} == {
        "by-name": ["profile"],
        "by-arn": ["profile"],
        "elsewhere": [],
        "none": [],
    }


def test_property_dependencies_win_and_unknowns_without_them_cannot_tell() -> None:
    view = _view(
        R(PROFILE, "profile", {"name": U}),
        R(INSTANCE, "dep", {"iamInstanceProfile": U}, deps={"iamInstanceProfile": ["profile"]}),
        R(INSTANCE, "blind", {"iamInstanceProfile": U}),
    )
    profiles = view.pool(PROFILE, ids=("name",))
    _, dep, blind = view.nodes
    assert [n.name for n in view.referenced(dep, "iamInstanceProfile", profiles) or []] == ["profile"]
    assert view.referenced(blind, "iamInstanceProfile", profiles) is None


def test_companions_per_member_and_blindness() -> None:
    resources = [
        R(BUCKET, "a", {"bucket": "a-1"}),
        R(BUCKET, "b", {"bucket": "b-1"}),
        R(PAB, "a-pab", {"bucket": "a-1"}),
        R(PAB, "a-pab-2", {"bucket": U}, deps={"bucket": ["a"]}),
    ]
    view = _view(*resources)
    buckets = view.pool(BUCKET, ids=("bucket",))
    found, blind = view.companions((PAB,), "bucket", buckets)
    by_name = {view.by_urn[urn].name: [n.name for n in nodes] for urn, nodes in found.items()}
    assert by_name == {"a": ["a-pab", "a-pab-2"], "b": []} and not blind
    view = _view(*resources, R(PAB, "who", {"bucket": U}))
    _, blind = view.companions((PAB,), "bucket", view.pool(BUCKET, ids=("bucket",)))
    assert blind
