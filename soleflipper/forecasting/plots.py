"""Accuracy plot of a backtest: MASE by horizon, one line per model, one panel per target."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display on servers and in Dagster
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def accuracy_plot_png(results: pd.DataFrame, title: str) -> bytes:
    """PNG bytes: MASE (lower is better) against horizon for every model and target in ``results``."""
    targets = list(dict.fromkeys(results["target"])) or ["units"]
    fig, axes = plt.subplots(1, len(targets), figsize=(5.5 * len(targets), 4.0), squeeze=False)
    for ax, target in zip(axes[0], targets, strict=True):
        part = results[results["target"] == target]
        for model, rows in part.groupby("model", sort=True):
            rows = rows.sort_values("horizon")
            bold = model == "chosen"
            ax.plot(rows["horizon"], rows["mase"], marker="o", linewidth=2.5 if bold else 1.2, label=model)
        ax.set_title(target)
        ax.set_xlabel("horizon (weeks)")
        ax.set_ylabel("MASE")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()
