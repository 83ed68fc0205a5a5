"""CreateImage tags the image AND its snapshot, as the EC2 API reference documents."""

from __future__ import annotations

from tests import aws


def test_create_image_tags_image_and_snapshot(moto_aws: None) -> None:
    sess = aws.session(aws.ACCOUNTS[0], aws.REGIONS[0])
    ec2 = sess.client("ec2")
    instance = aws.run_instances(sess)[0]
    image_id = ec2.create_image(
        InstanceId=instance,
        Name="baked",
        TagSpecifications=[
            {"ResourceType": "image", "Tags": [{"Key": "kind", "Value": "image"}]},
            {"ResourceType": "snapshot", "Tags": [{"Key": "kind", "Value": "snapshot"}]},
        ],
    )["ImageId"]
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert aws.tags_of(image["Tags"]) == {"kind": "image"}
    snapshot_id = image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    snapshot = ec2.describe_snapshots(SnapshotIds=[snapshot_id])["Snapshots"][0]
    assert aws.tags_of(snapshot["Tags"]) == {"kind": "snapshot"}
