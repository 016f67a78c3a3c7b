"""The report's charts as PNG bytes (matplotlib, Agg backend; embedded base64 in the HTML, so the
file needs nothing from the network). Each returns None when there is nothing to draw."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

COLOURS = {"revenue": "#4c6ef5", "profit": "#2b8a3e", "net": "#d9480f", "grey": "#868e96"}
BUCKET_COLOURS = {"Fast": "#2b8a3e", "Normal": "#4c6ef5", "Slow": "#f59f00", "Dead": "#c92a2a", "Unknown": "#868e96"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _png(fig) -> bytes:
    plt = _plt()
    buffer = io.BytesIO()
    # no timestamp in the PNG: the same data gives the same bytes
    fig.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def monthly_chart(rows: Sequence[dict[str, Any]], currency: str) -> bytes | None:
    """Revenue bars with gross and net profit lines per month (finance.fct_monthly_pnl rows)."""
    if not rows:
        return None
    plt = _plt()
    labels = [f"{r['month']:%Y-%m}" for r in rows]
    x = range(len(rows))
    fig, ax = plt.subplots(figsize=(10, 3.6), dpi=90)
    ax.bar(x, [float(r["revenue_home"]) for r in rows], color=COLOURS["revenue"], alpha=0.8, label="revenue")
    ax.plot(x, [float(r["gross_profit_home"]) for r in rows], "o-", color=COLOURS["profit"], label="gross profit")
    ax.plot(x, [float(r["net_profit_home"]) for r in rows], "s--", color=COLOURS["net"],
            label="net profit (after expenses)")  # fmt: skip
    ax.axhline(0, color=COLOURS["grey"], linewidth=0.8)
    ax.set_xticks(list(x), labels, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(currency)
    ax.set_title(f"Revenue and profit per month ({currency})", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3, axis="y")
    return _png(fig)


def platform_chart(rows: Sequence[dict[str, Any]], currency: str) -> bytes | None:
    """Revenue and profit per platform (horizontal bars)."""
    if not rows:
        return None
    plt = _plt()
    names = [str(r["platform_name"] or r["platform"]) for r in rows][::-1]
    y = list(range(len(rows)))
    fig, ax = plt.subplots(figsize=(10, 0.5 * len(rows) + 1.4), dpi=90)
    ax.barh([v + 0.2 for v in y], [float(r["revenue_home"]) for r in rows][::-1], height=0.4,
            color=COLOURS["revenue"], label="revenue")  # fmt: skip
    ax.barh([v - 0.2 for v in y], [float(r["profit_home"]) for r in rows][::-1], height=0.4,
            color=COLOURS["profit"], label="profit")  # fmt: skip
    ax.set_yticks(y, names, fontsize=8)
    ax.set_xlabel(currency)
    ax.set_title(f"Revenue and profit per platform ({currency})", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="x")
    return _png(fig)


def aging_chart(rows: Sequence[dict[str, Any]], currency: str) -> bytes | None:
    """Pairs in stock and their net cost per age bucket (mv_inventory_status)."""
    if not rows:
        return None
    plt = _plt()
    labels = [str(r["age_bucket"]) for r in rows]
    colours = [BUCKET_COLOURS.get(label, COLOURS["grey"]) for label in labels]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3), dpi=90)
    left.bar(labels, [int(r["pairs"]) for r in rows], color=colours)
    left.set_title("Pairs in stock by age", fontsize=10)
    right.bar(labels, [float(r["net_cost_home"]) for r in rows], color=colours)
    right.set_title(f"Net cost in stock by age ({currency})", fontsize=10)
    for ax in (left, right):
        ax.grid(alpha=0.3, axis="y")
        ax.tick_params(labelsize=8)
    return _png(fig)


def accuracy_chart(rows: Sequence[dict[str, Any]]) -> bytes | None:
    """MASE per model and horizon, one panel per level and target (analytics.forecast_accuracy)."""
    rows = [r for r in rows if r["mase"] is not None and r["mase"] == r["mase"]]
    if not rows:
        return None
    plt = _plt()
    panels = sorted({(r["level"], r["target"]) for r in rows})
    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels) + 0.5, 3), dpi=90, squeeze=False)
    for ax, (level, target) in zip(axes[0], panels, strict=True):
        mine = [r for r in rows if (r["level"], r["target"]) == (level, target)]
        for model in sorted({r["model"] for r in mine}):
            points = sorted((int(r["horizon"]), float(r["mase"])) for r in mine if r["model"] == model)
            ax.plot([p[0] for p in points], [p[1] for p in points], "o-", label=model)
        ax.axhline(1, color=COLOURS["grey"], linewidth=0.8, linestyle=":")
        ax.set_title(f"MASE, {level} / {target}", fontsize=10)
        ax.set_xlabel("horizon (weeks)", fontsize=8)
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
    axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5))
    return _png(fig)


def recommendations_chart(rows: Sequence[dict[str, Any]]) -> bytes | None:
    """Expected profit and payout of the recommended listings (clearance pairs in red)."""
    if not rows:
        return None
    plt = _plt()
    currencies = sorted({str(r["currency"]) for r in rows})
    unit = currencies[0] if len(currencies) == 1 else "each pair's currency"
    labels = [f"{str(r['product_name'] or '-')[:38]} {r['size_label'] or ''} ({r['platform']})" for r in rows][::-1]
    y = list(range(len(rows)))
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(rows) + 1.2), dpi=90)
    ax.barh(y, [float(r["expected_payout"]) for r in rows][::-1], color="#dee2e6", label="expected payout")
    ax.barh(y, [float(r["expected_profit"]) for r in rows][::-1], height=0.5,
            color=[BUCKET_COLOURS["Dead"] if r["clearance"] else COLOURS["profit"] for r in rows][::-1],
            label="expected profit")  # fmt: skip
    ax.axvline(0, color=COLOURS["grey"], linewidth=0.8)
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel(unit)
    ax.set_title(f"Recommended listings: expected payout and profit ({unit})", fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(alpha=0.3, axis="x")
    return _png(fig)
