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

COLORS = {"compliant": "#2e7d32", "non_compliant": "#c62828", "unreported": "#9e9e9e"}
LABELS = {"compliant": "Compliant", "non_compliant": "Non-compliant", "unreported": "Never scanned"}
_STATUS_KEYS = ("compliant", "non_compliant", "unreported")
MAX_BARS = 25


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


def stacked_bars(chart: str, title: str, rows: list[dict[str, Any]], label_key: str) -> str:
    """Horizontal 100 % bars of compliant / non-compliant / never scanned per group."""
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
        total = _num(row.get("instances"))
        label = str(row.get(label_key, ""))
        parts.append(f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" class="label">{escape(label)}</text>')
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
    total = sum(_num(summary.get(key)) for key in _STATUS_KEYS)
    parts = [
        f'<svg data-chart="{chart}" role="img" aria-label="{escape(title)}" width="{size + 190}" height="{size}" '
        f'viewBox="0 0 {size + 190} {size}" xmlns="http://www.w3.org/2000/svg">'
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
        y = 60 + index * 30
        parts.append(
            f'<rect x="{size + 10}" y="{y - 12}" width="14" height="14" fill="{COLORS[key]}"/>'
            f'<text x="{size + 30}" y="{y}" class="label">{LABELS[key]}: {_num(summary.get(key)):g}</text>'
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
        label = f"{row.get('accountid', '')} {row.get('region', '')} {row.get('resourceid', '')}"
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
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:0 0 8px}
.meta{color:#616161;margin-bottom:16px}
.tiles{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:16px}
.tile{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:10px 16px;min-width:130px}
.tile b{display:block;font-size:24px}
.grid{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.card{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:12px 16px}
svg text{font-size:12px;fill:#424242}svg text.big{font-size:26px;font-weight:600;fill:#212121}
svg text.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:11px}
svg text.note,svg text.empty{fill:#757575;font-style:italic}
table{border-collapse:collapse;background:#fff;margin-top:16px}
td,th{border:1px solid #e0e0e0;padding:4px 8px;text-align:left}th{background:#f5f5f5}
"""


def render_dashboard(report: dict[str, Any], generated_at: str, source: str) -> str:
    """The whole page for a ``report.json`` document."""
    summary = report.get("summary", {})
    counts = {name: query.get("row_count", len(query["rows"])) for name, query in report.get("queries", {}).items()}
    tiles = [
        ("Instances", summary.get("instances", 0)),
        ("Compliant", summary.get("compliant", 0)),
        ("Non-compliant", summary.get("non_compliant", 0)),
        ("Never scanned", summary.get("unreported", 0)),
        ("SLA breaches", counts.get("PatchSlaBreaches", 0)),
        ("Stale (> 7 d)", counts.get("StaleInstances", 0)),
        ("Exempted", counts.get("ExemptedInstances", 0)),
    ]
    sla_rows = _records(report, "PatchSlaBreaches")
    sla_days = sla_rows[0].get("sla_days") if sla_rows else report.get("sla_days")
    query_rows = "".join(
        f'<tr><td><a href="{escape(name)}.csv">{escape(name)}</a></td><td>{counts.get(name, 0)}</td>'
        f"<td>{escape(str(query.get('description', '')))}</td></tr>"
        for name, query in sorted(report.get("queries", {}).items())
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Patch compliance report</title><style>{_STYLE}</style></head><body>"
        "<h1>Patch compliance across the organization</h1>"
        f'<div class="meta">Generated {escape(generated_at)} from {escape(source)}. Terminated instances are '
        f"never counted. SLA: Critical or Security patches missing and no patch installed for more than "
        f"{escape(str(sla_days if sla_days is not None else 'N'))} days.</div>"
        '<div class="tiles">'
        + "".join(f'<div class="tile">{escape(label)}<b>{escape(str(value))}</b></div>' for label, value in tiles)
        + '</div><div class="grid">'
        '<div class="card"><h2>Compliance by account</h2>'
        + stacked_bars(
            "compliance-by-account", "Compliance by account", _records(report, "ComplianceByAccount"), "accountid"
        )
        + '</div><div class="card"><h2>Instances by patch status</h2>'
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
        "<table><tr><th>Query (CSV)</th><th>Rows</th><th>What it answers</th></tr>" + query_rows + "</table>"
        "</body></html>\n"
    )
