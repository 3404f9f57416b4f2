"""Figure specifications (plain, JSON-able dicts built by claims) and their rendering to PNG.

Claims never call matplotlib: they return specs, so ``--figures`` is the only place where plotting
happens and a run without it pays nothing for it.
"""
from __future__ import annotations

import math
from pathlib import Path


def line_figure(name: str, title: str, xlabel: str, ylabel: str, series: list[dict],
                logx: bool = True, logy: bool = True) -> dict:
    """``series``: dicts with ``label``, ``x``, ``y`` and optionally ``style`` ('-', '--', ':', 'o-')."""
    return {"name": name, "kind": "line", "title": title, "xlabel": xlabel, "ylabel": ylabel,
            "series": series, "logx": logx, "logy": logy}


def bar_figure(name: str, title: str, ylabel: str, labels: list[str], values: list[float],
               reference: float | None = None, highlight: str | None = None) -> dict:
    return {"name": name, "kind": "bar", "title": title, "ylabel": ylabel, "labels": labels,
            "values": values, "reference": reference, "highlight": highlight}


def series(label: str, x, y, style: str = "-") -> dict:
    return {"label": label, "x": [float(v) for v in x], "y": [float(v) for v in y], "style": style}


def render(spec: dict, directory: Path, prefix: str) -> Path:
    """Write one figure as ``directory/prefix-name.png`` and return the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110)
    if spec["kind"] == "line":
        for s in spec["series"]:
            pts = [(x, y) for x, y in zip(s["x"], s["y"])
                   if math.isfinite(x) and math.isfinite(y) and (not spec["logy"] or y > 0)]
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, s.get("style", "-"), label=s["label"], lw=1.6, ms=3)
        if spec["logx"]:
            ax.set_xscale("log")
        if spec["logy"]:
            ax.set_yscale("log")
        ax.legend(fontsize=8)
    elif spec["kind"] == "bar":
        colors = ["tab:orange" if lab == spec.get("highlight") else "tab:blue" for lab in spec["labels"]]
        ax.bar(range(len(spec["values"])), spec["values"], color=colors)
        ax.set_xticks(range(len(spec["labels"])), spec["labels"], rotation=30, ha="right", fontsize=8)
        if spec.get("reference") is not None:
            ax.axhline(spec["reference"], color="k", ls="--", lw=1)
    else:
        raise ValueError(f"unknown figure kind {spec['kind']!r}")
    ax.set_title(spec["title"], fontsize=10)
    ax.set_xlabel(spec.get("xlabel", ""))
    ax.set_ylabel(spec["ylabel"])
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    path = directory / f"{prefix}-{spec['name']}.png"
    fig.savefig(path)
    plt.close(fig)
    return path
