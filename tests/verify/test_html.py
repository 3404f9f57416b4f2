"""The self-contained HTML report (verify.html) and ``--html`` of run/all (verify.runner)."""
import base64
import re

from theory.derivation import Derivation
from verify import figures as figs
from verify.html import Section, Table, render_html, write_html
from verify.outcome import Check, Outcome
from verify.registry import Claim
from verify.runner import run_claims

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _images(page: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)]


def test_render_escapes_and_embeds():
    fig = figs.line_figure("gap", "a <b> & c", "t", "gap", [figs.series("s", [1, 10], [1.0, 0.1])])
    page = render_html("T <script>", [Section("S & co", "failed", ["<i>x</i>"],
                                              [Table(["h<1>"], [[0.5], ["<b>"]])], [fig])],
                       data={"k": "<v>"})
    assert "<script>" not in page and "T &lt;script&gt;" in page and "&lt;i&gt;x&lt;/i&gt;" in page
    assert "h&lt;1&gt;" in page and "&lt;b&gt;" in page and "&lt;v&gt;" in page
    images = _images(page)
    assert len(images) == 1 and images[0].startswith(PNG_MAGIC)
    assert "src='http" not in page and 'src="http' not in page            # self-contained


def test_write_is_atomic_and_readable(tmp_path):
    path = tmp_path / "sub" / "r.html"
    write_html(path, "t", [Section("s")])
    assert path.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in path.parent.iterdir()] == ["r.html"]         # no temporary file left


def test_runner_html(tmp_path, capsys):
    fig = figs.bar_figure("b", "gaps", "gap", ["x", "y"], [1e-3, -1e-9], logy=True, annotate=True)

    def ok(ctx):
        return Outcome.from_checks([Check("gap", 1e-3, "<=", 1e-2, note="n & m")], figures=[fig])

    claims = [Claim(id="a-ok", title="A", source="Test 2026", section="9 Test", statement="st",
                    check=ok, derivation=lambda: Derivation("d")),
              Claim(id="b-broken", title="B", source="Test 2026", section="9 Test", statement="",
                    check=lambda ctx: 1 / 0, derivation=lambda: Derivation("d"))]
    path = tmp_path / "r.html"
    assert run_claims(claims, html_path=str(path)) == 1
    page = path.read_text()
    assert "a-ok: A" in page and "b-broken: B" in page and "ZeroDivisionError" in page
    assert "n &amp; m" in page and len(_images(page)) == 1
