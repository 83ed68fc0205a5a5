"""``patchctl summary``: the Markdown the pull-request workflow writes to the job summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from patchctl.cli import main
from patchctl.commands.summary import MAX_VIOLATIONS_PER_STACK, render


def document(stack: str, violations: list[dict[str, str]] | None = None, **summary: Any) -> dict[str, Any]:
    violations = violations or []
    mandatory = sum(v["level"] in ("mandatory", "remediate") for v in violations)
    advisory = sum(v["level"] == "advisory" for v in violations)
    return {
        "stack": stack,
        "project": "org-patching",
        "resources": [],
        "outputs": {},
        "violations": violations,
        "summary": {
            "resources": 56,
            "violations": {"mandatory": mandatory, "advisory": advisory},
            "remediations": 0,
            "policiesRun": True,
            "warnings": [],
            **summary,
        },
    }


def violation(level: str, policy: str, name: str, message: str) -> dict[str, str]:
    return {
        "policy": policy,
        "level": level,
        "urn": f"urn:pulumi:dev::app::aws:ec2/instance:Instance::{name}",
        "message": message,
    }


def write(tmp_path: Path, name: str, content: dict[str, Any]) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(content))
    return str(path)


def test_table_and_violations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    central = write(tmp_path, "central.json", document("central"))
    child = write(
        tmp_path,
        "child.json",
        document(
            "child",
            [
                violation("mandatory", "ec2-instance-profile", "web", "no profile | at all\nFix: set one"),
                violation("advisory", "s3-lifecycle", "logs", "consider a lifecycle"),
            ],
            warnings=["no mock for invoke aws:foo"],
        ),
    )
    assert main(["summary", "--json", central, child]) == 0
    markdown = capsys.readouterr().out
    lines = markdown.splitlines()
    assert lines[0] == "## org-patching preview"
    assert "| central | org-patching | 56 | 0 | 0 | 0 | ✅ passes |" in lines
    assert "| child | org-patching | 56 | 1 | 1 | 0 | ❌ blocked |" in lines
    assert "### child" in lines and "### central" not in lines
    # A pipe in a message must not split the table row; line breaks become <br>.
    assert "| ❌ mandatory | `ec2-instance-profile` | web | no profile \\| at all<br>Fix: set one |" in lines
    assert "| ⚠️ advisory | `s3-lifecycle` | logs | consider a lifecycle |" in lines
    assert "> warning: no mock for invoke aws:foo" in lines
    assert lines[-1] == "**1 stack(s) with mandatory violations: `pulumi up` would fail for child.**"


def test_fail_on_mandatory_and_append_to_file(tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.json", document("child", [violation("mandatory", "p", "web", "m")]))
    good = write(tmp_path, "good.json", document("central"))
    summary_file = tmp_path / "step-summary.md"
    summary_file.write_text("earlier step\n")
    assert main(["summary", "--json", good, "--out", str(summary_file), "--fail-on-mandatory"]) == 0
    assert main(["summary", "--json", good, bad, "--out", str(summary_file), "--fail-on-mandatory"]) == 1
    text = summary_file.read_text()
    assert text.startswith("earlier step\n## org-patching preview")
    assert text.count("## org-patching preview") == 2


def test_policies_not_run_and_advisories_only() -> None:
    not_run = document("central", policiesRun=False)
    advisory = document("child", [violation("advisory", "p", "x", "m")])
    markdown = render([("a.json", not_run), ("b.json", advisory)], "t")
    assert "| policies not run |" in markdown and "| ⚠️ advisories |" in markdown
    assert markdown.rstrip().endswith("No mandatory violations.")


def test_long_violation_lists_are_cut() -> None:
    many = [violation("mandatory", "p", f"i{n}", "m") for n in range(MAX_VIOLATIONS_PER_STACK + 7)]
    markdown = render([("out/child.json", document("child", many))], "t")
    assert markdown.count("| ❌ mandatory |") == MAX_VIOLATIONS_PER_STACK
    assert "…and 7 more: see the JSON artifact (out/child.json)." in markdown


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(None, "does not exist"), ("{not json", "not valid JSON"), ('{"stack": "x"}', "no 'summary'")],
)
def test_bad_input_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, fragment: str
) -> None:
    path = tmp_path / "doc.json"
    if content is not None:
        path.write_text(content)
    assert main(["summary", "--json", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {path}: ") and fragment in err and "\n" not in err
