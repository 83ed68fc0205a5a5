"""A static ``index.html``: the report's charts as inline SVG, no script, no network.

Why no JavaScript and no CDN: the page must open from a laptop, a ticket attachment or an
air-gapped review host exactly as written, and a test must be able to check the charts by
reading the DOM. Every chart is an ``<svg data-chart="...">`` whose marks carry
``data-label``/``data-value``, so tests (and people with screen readers, via the ``<title>``
of each mark) see the same numbers as the eye.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

COLORS = {
    "compliant": "#2e7d32",
    "non_compliant": "#c62828",
    "unreported": "#9e9e9e",
    "unmanaged": "#6a1b9a",
    "exempt": "#1565c0",
    "managed_node": "#00838f",
}
LABELS = {
    "compliant": "Compliant",
    "non_compliant": "Non-compliant",
    "unreported": "Never scanned",
    "unmanaged": "Unmanaged (no SSM)",
    "exempt": "Exempt",
    "managed_node": "Managed node (ASG/EKS/ECS)",
}
#: The categories we are responsible for: the bars and the donut are over these (the % too).
_STATUS_KEYS = ("compliant", "non_compliant", "unreported", "unmanaged")
#: Shown apart, never in the %: their owners or their orchestrators patch them.
_APART_KEYS = ("exempt", "managed_node")
MAX_BARS = 25
#: Capture days the page's trend tables show (report.json keeps them all).
TREND_DAYS = 14


def _records(report: dict[str, Any], name: str) -> list[dict[str, Any]]:
    query = report.get("queries", {}).get(name)
    if not query:
        return []
    return [dict(zip(query["columns"], row, strict=False)) for row in query["rows"]]


def _num(value: Any) -> float:
    try:
        return float(value or 0)
    except (TypeError, ValueError):
        return 0.0


def _responsible(row: dict[str, Any]) -> float:
    if row.get("responsible") is not None:
        return _num(row.get("responsible"))
    return sum(_num(row.get(key)) for key in _STATUS_KEYS)


def stacked_bars(
    chart: str, title: str, rows: list[dict[str, Any]], label_key: str, names: dict[str, str] | None = None
) -> str:
    """Horizontal 100 % bars of the categories we are responsible for, per group (exempt and managed apart)."""
    shown = rows[:MAX_BARS]
    label_width, bar_width, row_height = 190, 420, 24
    height = 30 + row_height * max(len(shown), 1) + 30
    parts = [
        f'<svg data-chart="{chart}" role="img" aria-label="{escape(title)}" width="{label_width + bar_width + 80}" '
        f'height="{height}" viewBox="0 0 {label_width + bar_width + 80} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if not shown:
        parts.append('<text x="10" y="40" class="empty">no data</text>')
    for index, row in enumerate(shown):
        y = 20 + index * row_height
        total = _responsible(row)
        label = str(row.get(label_key, ""))
        shown_label = (names or {}).get(label) or label
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" class="label">{escape(shown_label)}</text>'
        )
        x = float(label_width)
        for key in _STATUS_KEYS:
            value = _num(row.get(key))
            width = bar_width * value / total if total else 0.0
            if width > 0:
                parts.append(
                    f'<rect class="bar {key}" data-label="{escape(label)}" data-status="{key}" data-value="{value:g}" '
                    f'x="{x:.1f}" y="{y}" width="{width:.1f}" height="{row_height - 6}" fill="{COLORS[key]}">'
                    f"<title>{escape(label)}: {value:g} {LABELS[key].lower()}</title></rect>"
                )
            x += width
        pct = row.get("compliance_pct")
        pct_text = "n/a" if pct is None else f"{_num(pct):.1f}%"
        parts.append(f'<text x="{label_width + bar_width + 6}" y="{y + 15}" class="pct">{pct_text}</text>')
    if len(rows) > len(shown):
        parts.append(
            f'<text x="10" y="{height - 8}" class="note">{len(rows) - len(shown)} more in the CSV '
            f"(lowest compliance shown first)</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def donut(chart: str, title: str, summary: dict[str, Any]) -> str:
    """Share of instances per status, as a ring of arcs with the compliant % in the middle."""
    size, radius, inner = 220, 95, 58
    centre = size / 2
    total = sum(_num(summary.get(key)) for key in _STATUS_KEYS)  # the instances we are responsible for
    parts = [
        f'<svg data-chart="{chart}" role="img" aria-label="{escape(title)}" width="{size + 260}" height="{size}" '
        f'viewBox="0 0 {size + 260} {size}" xmlns="http://www.w3.org/2000/svg">'
    ]
    angle = -math.pi / 2
    for key in _STATUS_KEYS:
        value = _num(summary.get(key))
        if total <= 0 or value <= 0:
            continue
        share = value / total
        if share >= 0.9999:
            # A full ring cannot be drawn as one arc: two half rings.
            path = (
                f"M {centre} {centre - radius} A {radius} {radius} 0 1 1 {centre} {centre + radius} "
                f"A {radius} {radius} 0 1 1 {centre} {centre - radius} Z "
                f"M {centre} {centre - inner} A {inner} {inner} 0 1 0 {centre} {centre + inner} "
                f"A {inner} {inner} 0 1 0 {centre} {centre - inner} Z"
            )
        else:
            end = angle + share * 2 * math.pi
            large = 1 if share > 0.5 else 0
            x0, y0 = centre + radius * math.cos(angle), centre + radius * math.sin(angle)
            x1, y1 = centre + radius * math.cos(end), centre + radius * math.sin(end)
            x2, y2 = centre + inner * math.cos(end), centre + inner * math.sin(end)
            x3, y3 = centre + inner * math.cos(angle), centre + inner * math.sin(angle)
            path = (
                f"M {x0:.2f} {y0:.2f} A {radius} {radius} 0 {large} 1 {x1:.2f} {y1:.2f} "
                f"L {x2:.2f} {y2:.2f} A {inner} {inner} 0 {large} 0 {x3:.2f} {y3:.2f} Z"
            )
            angle = end
        parts.append(
            f'<path class="slice {key}" data-status="{key}" data-value="{value:g}" d="{path}" fill="{COLORS[key]}" '
            f'fill-rule="evenodd"><title>{LABELS[key]}: {value:g} ({100 * share:.1f}%)</title></path>'
        )
    compliant_pct = 100 * _num(summary.get("compliant")) / total if total else 0.0
    parts.append(
        f'<text x="{centre}" y="{centre + 8}" text-anchor="middle" class="big">{compliant_pct:.1f}%</text>'
        if total
        else f'<text x="{centre}" y="{centre}" text-anchor="middle">no data</text>'
    )
    for index, key in enumerate(_STATUS_KEYS):
        y = 40 + index * 30
        count = "not known" if summary.get(key) is None else f"{_num(summary.get(key)):g}"
        parts.append(
            f'<rect x="{size + 10}" y="{y - 12}" width="14" height="14" fill="{COLORS[key]}"/>'
            f'<text x="{size + 30}" y="{y}" class="label">{LABELS[key]}: {count}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def age_bars(chart: str, title: str, rows: list[dict[str, Any]], limit: int = 15) -> str:
    """Instances missing a Critical patch, oldest first: days since the node was last patched."""
    shown = rows[:limit]
    ages = [_num(row.get("days_since_last_patch")) for row in shown if row.get("days_since_last_patch") is not None]
    longest = max(ages, default=1.0) or 1.0
    label_width, bar_width, row_height = 350, 300, 24
    height = 30 + row_height * max(len(shown), 1) + 10
    parts = [
        f'<svg data-chart="{chart}" role="img" aria-label="{escape(title)}" width="{label_width + bar_width + 90}" '
        f'height="{height}" viewBox="0 0 {label_width + bar_width + 90} {height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if not shown:
        parts.append('<text x="10" y="40" class="empty">no instance is missing a Critical patch</text>')
    for index, row in enumerate(shown):
        y = 20 + index * row_height
        account = row.get("account_name") or row.get("accountid", "")
        label = f"{account} {row.get('region', '')} {row.get('resourceid', '')}"
        days = row.get("days_since_last_patch")
        value = longest if days is None else _num(days)
        width = max(bar_width * value / longest, 2.0)
        text = "never patched" if days is None else f"{_num(days):g} d"
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" class="label mono">{escape(label)}</text>'
            f'<rect class="bar age" data-label="{escape(str(row.get("resourceid", "")))}" data-value="{value:g}" '
            f'x="{label_width}" y="{y}" width="{width:.1f}" height="{row_height - 6}" fill="#ef6c00">'
            f"<title>{escape(label)}: {text}, {row.get('missing_critical', 0)} Critical missing</title></rect>"
            f'<text x="{label_width + width + 6:.1f}" y="{y + 15}" class="pct">{text}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


_STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#212121;background:#fafafa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 8px}h3{font-size:14px;margin:12px 0 4px}
.meta{color:#616161;margin-bottom:16px}
.tiles{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:16px}
.tile{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:10px 16px;min-width:130px}
.tile b{display:block;font-size:24px}.tile.apart{border-style:dashed}
.grid{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.card{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:12px 16px;margin-top:16px}
svg text{font-size:12px;fill:#424242}svg text.big{font-size:26px;font-weight:600;fill:#212121}
svg text.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px}
svg text.note,svg text.empty{fill:#757575;font-style:italic}
table{border-collapse:collapse;background:#fff;margin-top:8px}
td,th{border:1px solid #e0e0e0;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f5f5f5}
th[data-sort]{cursor:pointer}th[data-sort]:after{content:" \\2195";color:#9e9e9e}
td.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:12px}
.account{display:none}.account:target{display:block}
input[data-filter]{padding:4px 8px;width:320px}
.note{color:#757575;font-style:italic}
"""

#: Filtering and sorting of every table with ``data-table``, inline (no CDN: the page works offline).
_SCRIPT = """
document.querySelectorAll('input[data-filter]').forEach(function (input) {
  input.addEventListener('input', function () {
    var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
    document.querySelectorAll('#' + input.dataset.filter + ' tbody tr').forEach(function (row) {
      var text = row.textContent.toLowerCase();
      row.hidden = !words.every(function (word) { return text.indexOf(word) >= 0; });
    });
  });
});
document.querySelectorAll('table[data-table] th[data-sort]').forEach(function (th) {
  th.addEventListener('click', function () {
    var body = th.closest('table').tBodies[0], index = th.cellIndex;
    var down = th.dataset.dir !== 'asc'; th.dataset.dir = down ? 'asc' : 'desc';
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].dataset.v || a.cells[index].textContent;
      var y = b.cells[index].dataset.v || b.cells[index].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return down ? c : -c;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  });
});
"""


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    return f'<td data-v="{value}">{escape(text)}</td>' if numeric else f"<td>{escape(text)}</td>"


def table(table_id: str, columns: list[tuple[str, str]], rows: list[dict[str, Any]], empty: str) -> str:
    """A sortable, filterable table: ``columns`` is (key, heading); every header sorts on click."""
    if not rows:
        return f'<p class="note" id="{escape(table_id)}">{escape(empty)}</p>'
    head = "".join(f'<th data-sort="{escape(key)}">{escape(heading)}</th>' for key, heading in columns)
    body = "".join("<tr>" + "".join(_cell(row.get(key)) for key, _ in columns) + "</tr>" for row in rows)
    return (
        f'<input data-filter="{escape(table_id)}" type="search" placeholder="filter: words in any column" '
        f'aria-label="filter {escape(table_id)}">'
        f'<table id="{escape(table_id)}" data-table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


_INSTANCE_COLUMNS = [
    ("region", "Region"),
    ("resourceid", "Instance"),
    ("environment", "Environment"),
    ("maintenance_window", "Window"),
    ("last_scan", "Last scanned"),
    ("missing_patches", "Missing"),
    ("missing_critical", "Critical"),
    ("failed_patches", "Failed"),
    ("patch_ids", "Missing patches"),
]
_FAILED_COLUMNS = [
    ("region", "Region"),
    ("resourceid", "Instance"),
    ("patch", "Patch"),
    ("executiontime", "When"),
    ("reason", "Reason"),
]


def _anchor(account: str) -> str:
    return "account-" + "".join(ch for ch in account if ch.isalnum())


def _truncation(report: dict[str, Any], name: str) -> str:
    query = report.get("queries", {}).get(name) or {}
    if not query.get("truncated"):
        return ""
    return (
        f'<p class="note">The page lists the first {len(query.get("rows", []))} of {query.get("row_count")} rows; '
        f'<a href="{escape(name)}.csv">{escape(name)}.csv</a> has them all.</p>'
    )


def account_sections(report: dict[str, Any], names: dict[str, str]) -> str:
    """The account list (one link per account) and one section per account, shown when its link is followed."""
    accounts = [row for row in _records(report, "ComplianceByAccount") if row.get("accountid")]
    instances = _records(report, "NonCompliantInstances")
    failed = _records(report, "FailedPatchInstalls")
    overview = [
        {
            **row,
            "account": names.get(str(row.get("accountid"))) or row.get("accountid"),
        }
        for row in accounts
    ]
    links = "".join(
        f'<tr><td><a href="#{_anchor(str(row["accountid"]))}" data-account="{escape(str(row["accountid"]))}">'
        f"{escape(str(row['account']))}</a></td>"
        + "".join(
            _cell(row.get(key))
            for key in ("accountid", "compliance_pct", *_STATUS_KEYS, *_APART_KEYS)
            if key in row or key != "unmanaged"
        )
        + "</tr>"
        for row in overview
    )
    headings = ["Account", "Id", "Compliant %", *(LABELS[key] for key in _STATUS_KEYS), "Exempt", "Managed nodes"]
    if not any("unmanaged" in row for row in overview):
        headings.remove(LABELS["unmanaged"])
    head = "".join(f'<th data-sort="{index}">{escape(text)}</th>' for index, text in enumerate(headings))
    parts = [
        '<div class="card" id="accounts"><h2>Accounts</h2>'
        '<p class="note">Follow an account to see its non-compliant instances and its failed runs.</p>'
        '<input data-filter="account-list" type="search" placeholder="filter accounts" aria-label="filter accounts">'
        f'<table id="account-list" data-table><thead><tr>{head}</tr></thead><tbody>{links}</tbody></table></div>'
    ]
    for row in overview:
        account = str(row["accountid"])
        anchor = _anchor(account)
        mine = [item for item in instances if str(item.get("accountid")) == account]
        broken = [item for item in failed if str(item.get("accountid")) == account]
        counts = ", ".join(
            f"{LABELS[key].lower()} {row.get(key)}" for key in (*_STATUS_KEYS, *_APART_KEYS) if key in row
        )
        parts.append(
            f'<section class="account card" id="{anchor}" data-account="{escape(account)}">'
            f"<h2>{escape(str(row['account']))} <small>({escape(account)})</small></h2>"
            f"<p>{escape(counts)}; {escape(str(row.get('compliance_pct')))} % compliant. "
            '<a href="#accounts">All accounts</a></p>'
            f"<h3>Failed runs ({len(broken)})</h3>"
            + table(f"{anchor}-failed", _FAILED_COLUMNS, broken, "no failed patch install")
            + f"<h3>Non-compliant instances ({len(mine)})</h3>"
            + table(f"{anchor}-instances", _INSTANCE_COLUMNS, mine, "no non-compliant instance")
            + "</section>"
        )
    return "".join(parts)


def render_dashboard(report: dict[str, Any], generated_at: str, source: str) -> str:
    """The whole page for a ``report.json`` document."""
    summary = report.get("summary", {})
    names: dict[str, str] = dict(report.get("accounts") or {})
    counts = {name: query.get("row_count", len(query["rows"])) for name, query in report.get("queries", {}).items()}
    unmanaged = summary.get("unmanaged")
    tiles = [
        ("Responsible for", summary.get("responsible", 0), ""),
        ("Compliant %", "n/a" if summary.get("compliance_pct") is None else f"{summary['compliance_pct']:.1f}", ""),
        ("Compliant", summary.get("compliant", 0), ""),
        ("Non-compliant", summary.get("non_compliant", 0), ""),
        ("Never scanned", summary.get("unreported", 0), ""),
        ("Unmanaged (no SSM)", "not known" if unmanaged is None else unmanaged, ""),
        ("Failed installs", counts.get("FailedPatchInstalls", 0), ""),
        ("SLA breaches", counts.get("PatchSlaBreaches", 0), ""),
        ("Stale (> 7 d)", counts.get("StaleInstances", 0), ""),
        ("Exempt", summary.get("exempt", 0), " apart"),
        ("Managed nodes", summary.get("managed_node", 0), " apart"),
    ]
    sla_days = report.get("sla_days")
    unmanaged_note = (
        "Unmanaged instances are not known (no tag sweep wrote findings to the lake in the last 7 days; or pass "
        "--unmanaged with the EC2 instances that have no SSM inventory). "
        if unmanaged is None
        else ""
    )
    query_rows = "".join(
        f'<tr><td><a href="{escape(name)}.csv">{escape(name)}</a></td><td>{counts.get(name, 0)}</td>'
        f"<td>{escape(str(query.get('description', '')))}</td></tr>"
        for name, query in sorted(report.get("queries", {}).items())
    )
    failed = _records(report, "FailedPatchInstalls")
    for row in failed:
        row["account"] = names.get(str(row.get("accountid"))) or row.get("accountid")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Patch compliance report</title><style>{_STYLE}</style></head><body>"
        "<h1>Patch compliance across the organization</h1>"
        f'<div class="meta">Generated {escape(generated_at)} from {escape(source)}. Terminated instances are '
        f"never counted. <b>Percentages are over the {escape(str(summary.get('responsible', 0)))} instances we are "
        "responsible for</b> (compliant + non-compliant + never scanned + unmanaged); exempt instances "
        "(install_patch=no) and managed nodes (Auto Scaling, EKS, ECS: patched by their group or cluster) are "
        f"counted apart. {escape(unmanaged_note)}SLA: Critical or Security patches missing and no patch installed "
        f'for more than <span id="sla-days">{escape(str(sla_days if sla_days is not None else "N"))}</span> days.'
        "</div>"
        '<div class="tiles">'
        + "".join(
            f'<div class="tile{extra}">{escape(label)}<b>{escape(str(value))}</b></div>'
            for label, value, extra in tiles
        )
        + '</div><div class="grid">'
        '<div class="card"><h2>Compliance by account</h2>'
        + stacked_bars(
            "compliance-by-account",
            "Compliance by account",
            _records(report, "ComplianceByAccount"),
            "accountid",
            names,
        )
        + '</div><div class="card"><h2>Instances we are responsible for, by status</h2>'
        + donut("status-donut", "Instances by patch status", summary)
        + '</div><div class="card"><h2>Compliance by platform</h2>'
        + stacked_bars(
            "platform-breakdown", "Compliance by platform", _records(report, "ComplianceByPlatform"), "platformtype"
        )
        + '</div><div class="card"><h2>Compliance by environment</h2>'
        + stacked_bars(
            "compliance-by-environment",
            "Compliance by environment",
            _records(report, "ComplianceByEnvironment"),
            "environment",
        )
        + '</div><div class="card"><h2>Oldest missing Critical patch (days since last patched)</h2>'
        + age_bars(
            "oldest-missing-critical", "Oldest missing critical patch", _records(report, "OldestMissingCriticalPatch")
        )
        + "</div></div>"
        + trends_section(report, names)
        + '<div class="card" id="failed-runs"><h2>Failed runs</h2>'
        + table(
            "failed-list",
            [("account", "Account"), *_FAILED_COLUMNS],
            failed,
            "no patch install failed",
        )
        + _truncation(report, "FailedPatchInstalls")
        + "</div>"
        + account_sections(report, names)
        + _truncation(report, "NonCompliantInstances")
        + '<div class="card"><h2>Every query</h2>'
        "<table><tr><th>Query (CSV)</th><th>Rows</th><th>What it answers</th></tr>" + query_rows + "</table></div>"
        f"<script>{_SCRIPT}</script>"
        "</body></html>\n"
    )


def trends_section(report: dict[str, Any], names: dict[str, str]) -> str:
    """Compliance over time per environment and per account, when the source holds several capture days."""
    trends = report.get("trends") or {}
    if not trends:
        return ""
    parts = ['<div class="card" id="trends"><h2>Compliance over time</h2>']
    for key, heading in (("environment", "per environment"), ("accountid", "per account")):
        series = trends.get(key) or {}
        every_day = sorted({day for points in series.values() for day in points})
        days = every_day[-TREND_DAYS:]
        head = "".join(f"<th>{escape(day)}</th>" for day in days)
        body = "".join(
            f"<tr><td>{escape(names.get(group) or group)}</td>"
            + "".join(_cell(points.get(day)) for day in days)
            + "</tr>"
            for group, points in sorted(series.items())
        )
        parts.append(
            f'<h3>Compliant % {heading}</h3><table data-trend="{escape(key)}"><tr><th></th>{head}</tr>{body}</table>'
        )
    parts.append(
        f'<p class="note">The last {TREND_DAYS} capture days; report.json\'s "trends" has every day.</p></div>'
    )
    return "".join(parts)
