"""Every relative link and anchor in README.md and docs/*.md resolves.

Docs drift silently: a section is renamed, a file moves, and a link a new user clicks first
lands nowhere (the README linked ``#emergency-patching`` long before such a section existed).
Anchors are computed the way GitHub renders headings, so what passes here works there.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_REFERENCE = re.compile(r"^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # http:, https:, mailto:, ...


def prose(text: str) -> str:
    """The text outside fenced code blocks (links in code are examples, not links)."""
    return _FENCE.sub("", text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation removed, spaces to '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading keeps its text
    text = re.sub(r"[^\w\- ]", "", text.lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor a file's headings produce (repeats get -1, -2, ... as on GitHub)."""
    seen: Counter[str] = Counter()
    result: set[str] = set()
    for _, heading in _HEADING.findall(prose(path.read_text())):
        base = slug(heading)
        result.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return result


def links(path: Path) -> list[str]:
    text = _INLINE_CODE.sub("", prose(path.read_text()))
    return _LINK.findall(text) + _REFERENCE.findall(text)


def problem(source: Path, target: str, root: Path = ROOT) -> str | None:
    """Why a relative link from ``source`` (a file under ``root``) does not resolve, or None."""
    file_part, _, anchor = target.partition("#")
    destination = (source.parent / unquote(file_part)).resolve() if file_part else source.resolve()
    if not destination.is_relative_to(root.resolve()):
        return f"{target}: points outside the repository"
    if not destination.exists():
        return f"{target}: {destination.relative_to(root.resolve())} does not exist"
    if anchor and destination.suffix == ".md" and anchor not in anchors(destination):
        return f"{target}: no heading makes #{anchor} in {destination.relative_to(root.resolve())}"
    return None


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_and_anchors_resolve(doc: Path) -> None:
    relative = [t for t in links(doc) if not _EXTERNAL.match(t)]
    problems = [p for t in relative if (p := problem(doc, t))]
    assert not problems, "\n".join(problems)


def test_the_checker_sees_links_and_catches_broken_ones(tmp_path: Path) -> None:
    """The link test itself: it finds links in prose (not in code), and a broken file or anchor fails."""
    (tmp_path / "README.md").write_text("# org-patching\n\n## patchctl\n")
    (tmp_path / "docs").mkdir()
    doc = tmp_path / "docs" / "probe.md"
    text = (
        "# Top heading\n\n## Emergency patching (`emergency.*`)\n\n"
        "[ok](#top-heading) [ok2](#emergency-patching-emergency) [readme](../README.md#patchctl)\n"
        "[gone](nope.md) [bad anchor](#emergency) `[code](#not-a-link)`\n"
        "```\n[also code](#nowhere)\n```\n"
    )
    doc.write_text(text)
    found = links(doc)
    assert found == ["#top-heading", "#emergency-patching-emergency", "../README.md#patchctl", "nope.md", "#emergency"]
    assert [t for t in found if problem(doc, t, tmp_path)] == ["nope.md", "#emergency"]
    assert problem(doc, "../../outside.md", tmp_path) == "../../outside.md: points outside the repository"
