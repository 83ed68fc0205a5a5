"""``verdicts``: the contract's decision on known tags, kept undecided while unknowns could change it."""

from __future__ import annotations

from settings import TagSettings
from verdicts import judge_tags, profile_message, profile_name, profile_problem, tag_message
from wire import UNKNOWN, Tags, read_tags

DEFAULT = TagSettings()


def test_an_environment_alone_is_enough() -> None:
    verdict = judge_tags(read_tags({"environment": "prod"}), DEFAULT)
    assert verdict.problems == () and not verdict.violates


def test_missing_tags_violate_and_are_named() -> None:
    verdict = judge_tags(read_tags({"Name": "web"}), DEFAULT)
    assert verdict.violates and len(verdict.problems) == 2
    message = tag_message("EC2 instance", "web", verdict, DEFAULT, " (via x)")
    assert message.startswith("EC2 instance 'web' (via x) would not be patched: missing tag 'Patch Group'")
    assert message.endswith("or exempt it with the tag install_patch=no or patch_install=no.")


def test_exempt_and_managed_elsewhere_are_skipped() -> None:
    assert judge_tags(read_tags({"install_patch": "no"}), DEFAULT).skip
    assert judge_tags(read_tags({"aws:eks:nodegroup-name": "ng"}), DEFAULT).skip
    # a marker anyone can write skips a group or template, never a plain instance (issue 13 item 6)
    assert judge_tags(read_tags({"eks:nodegroup-name": "ng"}), DEFAULT, "asg").skip
    assert judge_tags(read_tags({"eks:nodegroup-name": "ng"}), DEFAULT).violates
    assert not judge_tags(read_tags({"install_patch": "no"}), DEFAULT).violates


def test_unknowns_that_could_change_the_answer_leave_it_undecided() -> None:
    assert judge_tags(Tags({}, set(), True), DEFAULT).undecided
    for key in ("environment", "install_patch", "aws:eks:nodegroup-name"):
        verdict = judge_tags(Tags({"Name": "x"}, {key}, False), DEFAULT)
        assert verdict.problems and verdict.undecided and not verdict.violates, key
    assert judge_tags(Tags({"Name": "x"}, {"team"}, False), DEFAULT).violates


def test_disallowed_environment_is_a_problem() -> None:
    settings = TagSettings(environments=("Prod",))
    [problem, *_] = [p for p in judge_tags(read_tags({"environment": "Dev"}), settings).problems if "allows" in p]
    assert problem == "tag 'environment'='Dev' is not an environment this organization allows (allowed: Prod)"


def test_instance_profile_problems() -> None:
    assert profile_name("arn:aws:iam::1:instance-profile/path/app") == "app" and profile_name("app") == "app"
    assert profile_problem(UNKNOWN, DEFAULT) is None
    assert profile_problem("app", DEFAULT) is None
    for missing in (None, "", " "):
        assert profile_problem(missing, DEFAULT) == "has no IAM instance profile, so SSM cannot reach it to patch"
    allow = TagSettings(instance_profiles=("InstanceProfileforPatching",))
    assert profile_problem("arn:aws:iam::1:instance-profile/InstanceProfileforPatching", allow) is None
    problem = profile_problem("other", allow)
    assert problem is not None and "'other', which is not one of the allowed profiles" in problem
    assert "set iam_instance_profile to one of InstanceProfileforPatching" in profile_message("x", "y", problem, allow)
