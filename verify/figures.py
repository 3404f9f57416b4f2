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
               reference: float | None = None, highlight: str | None = None,
               groups: list[dict] | None = None, annotate: bool = False, logy: bool = False) -> dict:
    """One bar per label; ``groups`` (dicts with ``label`` and ``values``) draws several bars per
    label side by side instead (``values`` is then ignored); ``annotate`` prints each value. On a
    log axis (``logy``) a value ≤ 0 is drawn as an empty bar labelled with its value."""
    return {"name": name, "kind": "bar", "title": title, "ylabel": ylabel, "labels": labels,
            "values": values, "reference": reference, "highlight": highlight, "groups": groups,
            "annotate": annotate, "logy": logy}


def series(label: str, x, y, style: str = "-") -> dict:
    return {"label": label, "x": [float(v) for v in x], "y": [float(v) for v in y], "style": style}


def render(spec: dict, directory: Path, prefix: str) -> Path:
    """Write one figure as ``directory/prefix-name.png`` (with :func:`verify.output.write_bytes`; the
    directory is created if missing) and return the path."""
    from verify.output import write_bytes

    path = Path(directory) / f"{prefix}-{spec['name']}.png"
    write_bytes(path, png_bytes(spec), "--figures")
    return path


def png_bytes(spec: dict) -> bytes:
    """One figure rendered as PNG, in memory."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=110)
    if spec["kind"] == "line":
        for s in spec["series"]:
            # Points that cannot be drawn (non-finite, or ≤ 0 on a log axis) leave a visible gap.
            ys = [y if math.isfinite(x) and math.isfinite(y) and (not spec["logy"] or y > 0)
                  else math.nan for x, y in zip(s["x"], s["y"])]
            if any(math.isfinite(y) for y in ys):
                ax.plot(s["x"], ys, s.get("style", "-"), label=s["label"], lw=1.6, ms=3)
        if spec["logx"]:
            ax.set_xscale("log")
        if spec["logy"]:
            ax.set_yscale("log")
        ax.legend(fontsize=8)
    elif spec["kind"] == "bar":
        groups = spec.get("groups") or [{"label": None, "values": spec["values"]}]
        logy = spec.get("logy", False)
        positive = [v for g in groups for v in g["values"] if math.isfinite(v) and v > 0]
        floor = min(positive, default=1.0) / 10 if logy else 0.0
        width = 0.8 / len(groups)
        for g, group in enumerate(groups):
            xs = [i - 0.4 + width * (g + 0.5) for i in range(len(spec["labels"]))]
            colors = [("tab:orange" if lab == spec.get("highlight") else "tab:blue") if len(groups) == 1
                      else f"C{g}" for lab in spec["labels"]]
            edges = ["black" if lab == spec.get("highlight") else "none" for lab in spec["labels"]]
            heights = [v - floor if math.isfinite(v) and v > floor else 0.0 for v in group["values"]]
            bars = ax.bar(xs, heights, bottom=floor, width=width, color=colors, edgecolor=edges,
                          linewidth=1.5, label=group["label"])
            if spec.get("annotate"):
                ax.bar_label(bars, labels=[f"{v:.4g}" for v in group["values"]], fontsize=6.5,
                             rotation=90, padding=2)
        if len(groups) > 1:
            ax.legend(fontsize=8, loc="best")
        if logy:
            ax.set_yscale("log")
            ax.set_ylim(bottom=floor)
        if spec.get("annotate"):
            low, high = ax.get_ylim()
            ax.set_ylim(top=high * (8.0 if logy else 1.15))
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
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png")
    finally:
        plt.close(fig)
    return buffer.getvalue()
