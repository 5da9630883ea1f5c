"""Chinese text that renders where the reader has no CJK font: an embedded subset font.

The page is written on the machine that runs ``cust`` (a cron server), but read anywhere,
including a machine without any Chinese font, where every character would be a box. So
the report embeds, as a ``data:`` URL in its own style sheet, a subset of a CJK font found
on the writing machine: only the characters the page uses (a few hundred glyphs, some
tens of KB as WOFF2), under the family name ``CustCJK`` that the page's and the charts'
font lists name last. The font comes from ``$CUST_CJK_FONT`` or fontconfig's list of fonts
that cover Chinese (``fc-list :lang=zh``; Debian's ``fonts-wqy-microhei`` or
``fonts-noto-cjk`` provide one). Without one, or without fontTools, the page is written as
before and relies on the reader's fonts.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

FAMILY = "CustCJK"


def _is_cjk(c: str) -> bool:
    o = ord(c)
    return (0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFF00 <= o <= 0xFFEF
            or 0x3000 <= o <= 0x303F)


@lru_cache(maxsize=1)
def cjk_font() -> Path | None:
    """A font file that covers Chinese on this machine, or None."""
    explicit = os.environ.get("CUST_CJK_FONT")
    if explicit:
        return Path(explicit) if Path(explicit).is_file() else None
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    try:
        listed = subprocess.run([fc_list, ":lang=zh", "file"], capture_output=True, text=True,
                                timeout=20, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    files = sorted({line.split(":")[0].strip() for line in listed.splitlines() if line.strip()})
    # Prefer a sans-serif face of a regular weight: the page's own look.
    files.sort(key=lambda f: ("bold" in f.lower(), "sans" not in f.lower()
                              and "hei" not in f.lower(), f))
    return Path(files[0]) if files else None


@lru_cache(maxsize=8)
def _subset(path: Path, chars: str) -> tuple[bytes, str] | None:
    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont
    except ImportError:
        return None
    try:
        import brotli  # noqa: F401  (WOFF2 needs it)

        flavor = "woff2"
    except ImportError:
        flavor = None
    import logging

    # fontTools logs each table it drops (FFTM, ...): not news for the report's reader.
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    # The font's own timestamp kept, so that the same page gives the same bytes. The tables
    # are read as the subsetter needs them (lazy=None): decompiling all 30,000 glyphs of
    # WenQuanYi Micro Hei first (lazy=False) took 5 s and gave the same bytes.
    font = TTFont(str(path), fontNumber=0, recalcTimestamp=False)
    options = subset.Options()
    options.flavor = flavor
    options.layout_features = []
    options.name_IDs = ["*"]
    options.hinting = False
    options.desubroutinize = True
    sub = subset.Subsetter(options)
    sub.populate(text=chars)
    sub.subset(font)
    out = io.BytesIO()
    font.flavor = flavor
    font.save(out)
    return out.getvalue(), ("font/woff2" if flavor else "font/ttf")


def font_face(text: str) -> str:
    """``@font-face`` for the CJK characters of ``text`` ("" when none or no font)."""
    chars = "".join(sorted({c for c in text if _is_cjk(c)}))
    path = cjk_font() if chars else None
    if path is None:
        return ""
    made = _subset(path, chars)
    if made is None:
        return ""
    data, mime = made
    fmt = "woff2" if mime == "font/woff2" else "truetype"
    encoded = base64.b64encode(data).decode("ascii")
    return (f'@font-face {{ font-family: "{FAMILY}"; font-display: block; '
            f'src: url(data:{mime};base64,{encoded}) format("{fmt}"); }}\n')


def with_font_of(html: str, text: str) -> str:
    """``html`` with a subset font for the Chinese of ``text`` in its style sheet."""
    css = font_face(text)
    if not css:
        return html
    return html.replace("</style>", css + "</style>", 1)
