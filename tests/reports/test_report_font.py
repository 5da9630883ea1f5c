"""Issue 26: the zh report renders on a machine without CJK fonts (an embedded subset font).

Needs a CJK font on the machine that writes the report (fc-list :lang=zh, or
$CUST_CJK_FONT) and fontTools; skipped with the reason where there is none. The browser
check runs Chromium with a fontconfig that knows only DejaVu (no Chinese font at all) and
asks the page whether its embedded font loaded and covers the title.
"""

import base64
import io
import json
import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cust.cli.main import app
from cust.reports import fonts, screenshot

runner = CliRunner()
ARTIFACTS = Path(__file__).resolve().parents[2] / ".artifacts"


@pytest.fixture(scope="module")
def zh_static(tmp_path_factory):
    pytest.importorskip("fontTools", reason="fontTools is not installed")
    if fonts.cjk_font() is None:
        pytest.skip("no CJK font on this machine (fc-list :lang=zh is empty; Debian's "
                    "fonts-wqy-microhei provides one): the report embeds none")
    out = tmp_path_factory.mktemp("font") / "zh.html"
    result = runner.invoke(app, ["report", "weekly", "--lang", "zh", "--static", "--out",
                                 str(out), "-q"])
    assert result.exit_code == 0, result.output
    return out


def test_the_subset_font_covers_every_chinese_character_of_the_page(zh_static):
    from fontTools.ttLib import TTFont

    html = zh_static.read_text(encoding="utf-8")
    face = re.search(r'font-family: "CustCJK";[^}]*url\(data:(font/[a-z0-9]+);base64,'
                     r'([A-Za-z0-9+/=]+)\)', html)
    assert face, "no embedded font"
    font = TTFont(io.BytesIO(base64.b64decode(face.group(2))))
    cmap = font.getBestCmap()
    page = html.replace(face.group(0), "")
    used = {c for c in page if 0x4E00 <= ord(c) <= 0x9FFF}
    assert len(used) > 100  # the labels, the readings, the segment names
    missing = sorted(c for c in used if ord(c) not in cmap)
    assert missing == []
    # A subset: the page's characters, not the font's tens of thousands.
    assert len(cmap) < 2 * len(used) + 300
    # The static edition's goal, font included: 300 kB until issue 24 added the time to
    # convert and the paths (Sankey) charts to the funnel section (+32 kB in Chinese).
    assert len(html.encode("utf-8")) <= 340_000
    # The original font's timestamp, not the time of the run: the same page, the same bytes.
    original = TTFont(str(fonts.cjk_font()), fontNumber=0)
    assert font["head"].modified == original["head"].modified


def test_a_browser_without_chinese_fonts_renders_it(zh_static, tmp_path):
    if screenshot.browser() is None:
        pytest.skip("no Chromium on this machine: the font was not tried in a browser")
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    if not dejavu.is_dir():
        pytest.skip("no DejaVu folder to build a font configuration without Chinese from")
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{dejavu}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>",
        encoding="utf-8")
    probe = tmp_path / "probe.html"
    html = zh_static.read_text(encoding="utf-8")
    check = ("<script>window.addEventListener('load',function(){document.fonts.ready.then("
             "function(){var s=[];document.fonts.forEach(function(f){s.push(f.family+':'+"
             "f.status)});var p=document.createElement('pre');p.id='fonts';p.textContent="
             "JSON.stringify({faces:s,title:document.fonts.check('16px CustCJK','周报核心指标')"
             "});document.body.appendChild(p)})});</script>")
    # The static page's policy allows no script: the probe copy relaxes it for the check.
    html = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    probe.write_text(html.replace("</body>", check + "</body>"), encoding="utf-8")
    old = os.environ.get("FONTCONFIG_FILE")
    os.environ["FONTCONFIG_FILE"] = str(conf)
    try:
        done = screenshot.dump_dom(probe, 400)
        shot = screenshot.screenshot(zh_static, ARTIFACTS / "report-weekly-zh-no-cjk-400.png",
                                     400, 1600)
    finally:
        if old is None:
            del os.environ["FONTCONFIG_FILE"]
        else:
            os.environ["FONTCONFIG_FILE"] = old
    found = re.search(r'<pre id="fonts">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stderr[-2000:]
    result = json.loads(found.group(1).replace("&quot;", '"'))
    assert any(f.strip('"') == "CustCJK" for f in
               (face.rsplit(":", 1)[0] for face in result["faces"]))
    assert all(face.endswith(":loaded") for face in result["faces"]), result
    assert result["title"] is True
    assert shot.stat().st_size > 10_000
