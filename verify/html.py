"""One self-contained HTML report: sections with text, tables and figures embedded as base64 PNG.

Used by ``verify run``, ``verify all`` and ``verify optimizer`` (``--html PATH``). Figures are the
same specs ``--figures`` renders (``verify.figures``); every string from a report is escaped. The
file is written by ``verify.output`` (a regular file atomically: temporary file, then rename).
"""
from __future__ import annotations

import base64
import html
import json
import os
from dataclasses import dataclass, field

_STATUS_COLOURS = {"verified": "#1a7f37", "ok": "#1a7f37", "identified": "#1a7f37",
                   "failed": "#cf222e", "error": "#cf222e", "inconclusive": "#9a6700",
                   "undetermined": "#9a6700", "interrupted": "#9a6700", "not-separated": "#9a6700",
                   "outside-family": "#9a6700"}

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #1f2328; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #d0d7de; padding-bottom: .2em; }
table { border-collapse: collapse; margin: .6em 0; font-size: .9em; }
th, td { border: 1px solid #d0d7de; padding: .25em .6em; text-align: left; }
th { background: #f6f8fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.status { font-weight: 600; } figure { display: inline-block; margin: .5em; }
figure img { max-width: 520px; border: 1px solid #d0d7de; }
details pre { background: #f6f8fa; padding: .6em; overflow-x: auto; font-size: .8em; }
p.note { color: #57606a; }
"""


@dataclass
class Table:
    header: list[str]
    rows: list[list]


@dataclass
class Section:
    heading: str
    status: str | None = None
    text: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[dict] = field(default_factory=list)


def _cell(value) -> str:
    if isinstance(value, float):
        return f'<td class="num">{value:.6g}</td>'
    if isinstance(value, int) and not isinstance(value, bool):
        return f'<td class="num">{value}</td>'
    text = "" if value is None else str(value)
    colour = _STATUS_COLOURS.get(text)
    if colour:
        return f'<td class="status" style="color:{colour}">{html.escape(text)}</td>'
    return f"<td>{html.escape(text)}</td>"


def _png(spec: dict) -> str:
    from verify import figures as figs

    return base64.b64encode(figs.png_bytes(spec)).decode("ascii")


def render_html(title: str, sections: list[Section], data: dict | None = None) -> str:
    """The page as a string (figures rendered to PNG in memory and embedded)."""
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>"]
    for sec in sections:
        head = html.escape(sec.heading)
        if sec.status:
            colour = _STATUS_COLOURS.get(sec.status, "#1f2328")
            head += f' <span class="status" style="color:{colour}">[{html.escape(sec.status)}]</span>'
        parts.append(f"<section><h2>{head}</h2>")
        parts += [f'<p class="note">{html.escape(t)}</p>' if t.startswith("note:") else
                  f"<p>{html.escape(t)}</p>" for t in sec.text]
        for tab in sec.tables:
            parts.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in tab.header)
                         + "</tr>")
            parts += ["<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in tab.rows]
            parts.append("</table>")
        for spec in sec.figures:
            alt = html.escape(spec.get("title", spec.get("name", "figure")))
            parts.append(f"<figure><img alt='{alt}' src='data:image/png;base64,"
                         f"{_png(spec)}'><figcaption>{alt}</figcaption></figure>")
        parts.append("</section>")
    if data is not None:
        parts.append("<details><summary>JSON report</summary><pre>"
                     + html.escape(json.dumps(data, indent=1, allow_nan=False)) + "</pre></details>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(path: str | os.PathLike, title: str, sections: list[Section], data: dict | None = None) -> None:
    """Render and write the page with :func:`verify.output.write_text` (a regular file atomically,
    through symbolic links, into devices and FIFOs; ``OutputError`` in one line when it cannot)."""
    from verify.output import write_text

    write_text(path, render_html(title, sections, data), "--html")
