"""``index.html``: self-contained, and its charts really drawn (headless Chromium when present)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from patchctl.report.build import build_report
from patchctl.report.duck import DuckDBSource
from patchctl.report.queries import report_queries
from tests.report.helpers import Fleet

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHARTS = {"compliance-by-account", "status-donut", "platform-breakdown", "oldest-missing-critical"}


class Marks(HTMLParser):
    """Collects each chart's marks (bars, slices) with their data attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.chart: str | None = None
        self.marks: dict[str, list[dict[str, str | None]]] = {}
        self.scripts = 0
        self.script_sources = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script":
            self.scripts += 1
            self.script_sources += "src" in attributes
        if tag == "svg" and attributes.get("data-chart"):
            self.chart = attributes["data-chart"]
            self.marks.setdefault(str(self.chart), [])
        elif self.chart and tag in ("rect", "path") and "data-value" in attributes:
            self.marks[self.chart].append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.chart = None


@pytest.fixture(scope="module")
def report_dir(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report")
    source = DuckDBSource(fleet.root)
    try:
        build_report(source, report_queries(), out, source=str(fleet.root))
    finally:
        source.close()
    return out


def check_charts(html: str, fleet: Fleet) -> None:
    parser = Marks()
    parser.feed(html)
    assert set(parser.marks) >= CHARTS
    figures = fleet.figures
    account_bars = parser.marks["compliance-by-account"]
    for account, counts in figures.per_account.items():
        drawn = {
            bar["data-status"]: float(bar["data-value"] or 0) for bar in account_bars if bar["data-label"] == account
        }
        assert drawn.get("compliant", 0) == counts.compliant
        assert drawn.get("non_compliant", 0) == counts.non_compliant
    slices = {mark["data-status"]: float(mark["data-value"] or 0) for mark in parser.marks["status-donut"]}
    assert slices == {
        "compliant": figures.compliant,
        "non_compliant": figures.non_compliant,
        "unreported": figures.unreported,
    }
    platforms = {bar["data-label"] for bar in parser.marks["platform-breakdown"]}
    assert platforms == set(figures.per_platform)
    ages = parser.marks["oldest-missing-critical"]
    assert 0 < len(ages) <= 15
    values = [float(bar["data-value"] or 0) for bar in ages]
    assert values == sorted(values, reverse=True)
    assert values[0] == max(figures.missing_critical_age.values())


def test_page_is_self_contained_and_draws_every_chart(report_dir: Path, fleet: Fleet) -> None:
    html = (report_dir / "index.html").read_text(encoding="utf-8")
    # No network: the only URL is the SVG namespace identifier (never fetched).
    urls = set(re.findall(r"(?:https?:)?//[\w.-]+[^\s\"'<>]*", html))
    assert urls <= {"http://www.w3.org/2000/svg"}, urls
    parser = Marks()
    parser.feed(html)
    assert parser.scripts == 1 and parser.script_sources == 0  # filtering and sorting, inline
    check_charts(html, fleet)
    assert '<span id="sla-days">30</span>' in html  # the SLA the SQL used, not "N"
    assert "Percentages are over the" in html and "instances we are responsible for" in html
    document = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    trends = document["trends"]
    assert set(trends["environment"]) == set(fleet.figures.per_environment) and len(trends["accountid"]) == 3
    assert 'data-trend="environment"' in html and 'data-trend="accountid"' in html
    for name in ("ComplianceByAccount", "PatchSlaBreaches", "StaleInstances"):
        assert f'href="{name}.csv"' in html and (report_dir / f"{name}.csv").is_file()


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    return subprocess.run([CHROMIUM, *flags, *args], capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it: apt-get install chromium)")
def test_chromium_renders_the_charts(report_dir: Path, fleet: Fleet, tmp_path: Path) -> None:
    url = (report_dir / "index.html").as_uri()
    dumped = _chromium(["--dump-dom", url], tmp_path)
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert "<svg" in dumped.stdout
    check_charts(dumped.stdout, fleet)  # the DOM as the browser built it
    shot = tmp_path / "dashboard.png"
    taken = _chromium([f"--screenshot={shot}", "--window-size=1400,1400", url], tmp_path)
    assert taken.returncode == 0, taken.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a blank page is ~5 kB


def _browser_executable() -> str | None:
    """The system Chromium, else the one ``python -m playwright install chromium`` downloaded, else None."""
    if CHROMIUM:
        return CHROMIUM
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Exception:  # playwright missing or its browser not downloaded: the test says which
        return None
    return path if Path(path).is_file() else None


BROWSER = _browser_executable()


@pytest.mark.skipif(
    BROWSER is None,
    reason="no Chromium (CI: apt-get install chromium, or .venv/bin/python -m playwright install chromium)",
)
def test_chromium_clicks_into_an_account_and_sees_its_failed_run(report_dir: Path, fleet: Fleet) -> None:
    from playwright.sync_api import sync_playwright

    document = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    failed = document["queries"]["FailedPatchInstalls"]
    first = dict(zip(failed["columns"], failed["rows"][0], strict=True))
    account, patch = str(first["accountid"]), str(first["patch"])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=BROWSER, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            requests: list[str] = []
            page.on("request", lambda request: requests.append(request.url))
            page.goto((report_dir / "index.html").as_uri())
            assert page.locator("#sla-days").inner_text() == "30"  # the real N, not "N"
            section = page.locator(f"section.account[data-account='{account}']")
            assert not section.is_visible()  # accounts open on demand
            page.locator(f"#account-list a[data-account='{account}']").click()
            assert section.is_visible()
            failed_rows = section.locator("table[id$='-failed'] tbody tr")
            assert failed_rows.filter(has_text=patch).count() >= 1
            assert "failed" in failed_rows.first.inner_text()
            instances = section.locator("table[id$='-instances'] tbody tr")
            listed = document["queries"]["NonCompliantInstances"]
            mine = [dict(zip(listed["columns"], row, strict=True)) for row in listed["rows"]]
            mine = [row for row in mine if str(row["accountid"]) == account]
            assert instances.count() == len(mine) > 1
            # Filtering: only the instance typed stays visible.
            target = str(mine[-1]["resourceid"])
            section.locator("input[data-filter$='-instances']").fill(target)
            assert section.locator("table[id$='-instances'] tbody tr:visible").count() == 1
            # Sorting: a click on "Missing" orders the rows by that number.
            section.locator("input[data-filter$='-instances']").fill("")
            section.locator("table[id$='-instances'] th[data-sort='missing_patches']").click()
            cells = section.locator("table[id$='-instances'] tbody tr td:nth-child(6)").all_inner_texts()
            assert [int(c) for c in cells] == sorted(int(c) for c in cells)
            assert all(url.startswith("file:") for url in requests), requests  # nothing from the network
        finally:
            browser.close()
