"""``report.html``: one self-contained page (inline CSS and SVG, no script, nothing fetched).

Equity curves managed vs unmanaged, the distribution of R outcomes on both sides, the summary table, and the
trades that gained and lost most from management with their journal.
"""

from __future__ import annotations

import html
import logging

from app.replay.outcome import JournalLine, TradeResult
from app.replay.results import equity_curve, iso

logger = logging.getLogger(__name__)

MANAGED_COLOUR = "#1f6feb"
UNMANAGED_COLOUR = "#9a6700"
_W, _H, _PAD = 760, 260, 44
_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:980px;color:#1b1f24;background:#fff}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:right}th{background:#f6f8fa}
td.l,th.l{text-align:left}.j{font:12px/1.35 ui-monospace,monospace;text-align:left;white-space:pre-wrap}
.k{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}
.muted{color:#57606a}svg text{font:11px system-ui,sans-serif;fill:#57606a}
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _axis_label(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"


def _svg_open(label: str) -> str:
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" role="img" aria-label="{label}">'


def equity_svg(trades: list[TradeResult]) -> str:
    curves = {
        "unmanaged": (UNMANAGED_COLOUR, equity_curve([(t.unmanaged_exit_time, t.unmanaged_profit) for t in trades])),
        "managed": (MANAGED_COLOUR, equity_curve([(t.managed_exit_time, t.managed_profit) for t in trades])),
    }
    points = [p for _, c in curves.values() for p in c]
    if not points:
        return "<p class=muted>No trades.</p>"
    t0 = min(t.open_time for t in trades)
    t1 = max(at for at, _ in points)
    lo, hi = min(0.0, *(v for _, v in points)), max(0.0, *(v for _, v in points))
    span_t, span_v = max(t1 - t0, 1.0), max(hi - lo, 1e-9)

    def xy(at: float, value: float) -> str:
        x = _PAD + (at - t0) / span_t * (_W - 2 * _PAD)
        y = _H - _PAD / 2 - (value - lo) / span_v * (_H - _PAD)
        return f"{x:.1f},{y:.1f}"

    parts = [_svg_open("equity curves")]
    zero = xy(t0, 0.0).split(",")[1]
    parts.append(f'<line x1="{_PAD}" x2="{_W - _PAD}" y1="{zero}" y2="{zero}" stroke="#d0d7de"/>')
    for value in (lo, hi):
        y = xy(t0, value).split(",")[1]
        parts.append(f'<text x="2" y="{y}">{_e(_axis_label(value))}</text>')
    parts.append(f'<text x="{_PAD}" y="{_H - 4}">{_e(iso(t0)[:10])}</text>')
    parts.append(f'<text x="{_W - _PAD - 60}" y="{_H - 4}">{_e(iso(t1)[:10])}</text>')
    for name, (colour, curve) in curves.items():
        path = " ".join([xy(t0, 0.0)] + [xy(at, v) for at, v in curve])
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.6" points="{path}">'
            f"<title>{name}</title></polyline>"
        )
    parts.append("</svg>")
    return "".join(parts)


def r_histogram_svg(trades: list[TradeResult], *, step: float = 0.5) -> str:
    values = {"unmanaged": [t.unmanaged_r for t in trades], "managed": [t.managed_r for t in trades]}
    every = [v for vs in values.values() for v in vs]
    if not every:
        return ""
    first = int(min(every) // step)
    last = int(max(every) // step)
    bins = list(range(first, last + 1))
    counts = {name: [sum(1 for v in vs if int(v // step) == b) for b in bins] for name, vs in values.items()}
    top = max(max(c) for c in counts.values()) or 1
    width = (_W - 2 * _PAD) / len(bins)
    parts = [_svg_open("distribution of R")]
    for i, b in enumerate(bins):
        for j, (name, colour) in enumerate((("unmanaged", UNMANAGED_COLOUR), ("managed", MANAGED_COLOUR))):
            n = counts[name][i]
            h = n / top * (_H - 2 * _PAD)
            x = _PAD + i * width + j * width / 2
            parts.append(
                f'<rect x="{x:.1f}" y="{_H - _PAD - h:.1f}" width="{max(width / 2 - 1, 1):.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{name} {b * step:+.1f} R: {n}</title></rect>'
            )
        if len(bins) <= 24 or i % max(1, len(bins) // 12) == 0:
            parts.append(f'<text x="{_PAD + i * width:.1f}" y="{_H - _PAD + 14}">{b * step:+.1f}</text>')
    parts.append(f'<text x="2" y="{_PAD}">{top}</text>')
    parts.append(f'<text x="{_W / 2 - 30}" y="{_H - 8}">R (bins of {step} R)</text></svg>')
    return "".join(parts)


def _summary_table(summary: dict) -> str:
    rows = [
        ("trades", "trades"),
        ("total profit", "total_profit"),
        ("mean R", "mean_r"),
        ("median R", "median_r"),
        ("win rate", "win_rate"),
        ("profit factor", "profit_factor"),
        ("worst trade (R)", "worst_r"),
        ("max drawdown", "max_drawdown"),
    ]
    diff = summary["difference_managed_minus_unmanaged"]
    out = ["<table><tr><th class=l></th><th>unmanaged</th><th>managed</th><th>managed - unmanaged</th></tr>"]
    for label, key in rows:
        cells = [summary["unmanaged"][key], summary["managed"][key], diff.get(key, "")]
        out.append(
            f"<tr><td class=l>{label}</td>"
            + "".join(f"<td>{_e('-' if c is None else c)}</td>" for c in cells)
            + "</tr>"
        )
    out.append("</table>")
    return "".join(out)


def _trade_table(title: str, trades: list[TradeResult], journals: dict[int, list[JournalLine]]) -> str:
    out = [f"<h2>{_e(title)}</h2>"]
    if not trades:
        return out[0] + "<p class=muted>None.</p>"
    out.append(
        "<table><tr><th>#</th><th class=l>symbol</th><th class=l>side</th><th class=l>opened</th>"
        "<th>unmanaged R</th><th>managed R</th><th>difference</th><th class=l>exit (unmanaged)</th>"
        "<th class=l>final state</th></tr>"
    )
    for t in trades:
        out.append(
            f"<tr><td>{t.trade_id}</td><td class=l>{_e(t.symbol)}</td><td class=l>{t.direction}</td>"
            f"<td class=l>{_e(iso(t.open_time))}</td><td>{t.unmanaged_r:+z.2f}</td><td>{t.managed_r:+z.2f}</td>"
            f"<td>{t.managed_r - t.unmanaged_r:+z.2f}</td><td class=l>{t.unmanaged_exit_reason}</td>"
            f"<td class=l>{_e(t.final_state)}</td></tr>"
        )
        lines = "\n".join(f"{iso(j.at)}  {j.what:<6} {j.text}" for j in journals.get(t.trade_id, []))
        out.append(f"<tr><td></td><td colspan=8 class=j>{_e(lines or 'no journal entries')}</td></tr>")
    out.append("</table>")
    return "".join(out)


def render_report(
    trades: list[TradeResult],
    journals: dict[int, list[JournalLine]],
    summary: dict,
    *,
    title: str = "DTMS replay",
    top: int = 5,
) -> str:
    inputs = summary.get("inputs", {})
    by_gain = sorted(trades, key=lambda t: (t.managed_r - t.unmanaged_r, t.trade_id))
    gained = [t for t in reversed(by_gain) if t.managed_r > t.unmanaged_r][:top]
    lost = [t for t in by_gain if t.managed_r < t.unmanaged_r][:top]
    legend = (
        f'<span class=k style="background:{MANAGED_COLOUR}"></span>managed by DTMS'
        f'<span class=k style="background:{UNMANAGED_COLOUR}"></span>unmanaged (SL and TP only)'
    )
    settings = ", ".join(f"{_e(k)}: {_e(v)}" for k, v in inputs.items() if k != "bars")
    bars = ", ".join(f"{_e(k)} = {_e(v)}" for k, v in inputs.get("bars", {}).items())
    return "".join(
        [
            "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
            f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
            f"<h1>{_e(title)}</h1><p class=muted>Bars: {bars}<br>{settings}</p>",
            "<h2>Summary</h2>",
            _summary_table(summary),
            f"<h2>Equity (closed trades, in exit order)</h2><p>{legend}</p>",
            equity_svg(trades),
            f"<h2>Distribution of R</h2><p>{legend}</p>",
            r_histogram_svg(trades),
            _trade_table(f"Trades that gained most from management (top {top})", gained, journals),
            _trade_table(f"Trades that lost most from management (top {top})", lost, journals),
            "</body></html>\n",
        ]
    )
