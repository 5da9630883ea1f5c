"""Screenshots of the weekly report in a headless Chromium, offline.

``python -m cust.reports.screenshot`` writes ``docs/report-weekly.png``: the interactive
report of the bundled sample, as a 1400 px wide browser shows it (the README's picture).
The browser is the system's Chromium (``chromium``, ``chromium-browser`` or
``google-chrome`` on the PATH, or ``$CUST_CHROMIUM``), driven by its own command-line
flags: no browser download, no network. The browser test uses the same functions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--no-first-run", "--disable-extensions", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--mute-audio")
# Virtual time lets the page's scripts (Vega drawing every chart) finish before the
# browser dumps the DOM or takes the picture, without a fixed sleep.
BUDGET_MS = 20_000


def browser() -> str | None:
    """The path of a Chromium on this machine, or None."""
    explicit = os.environ.get("CUST_CHROMIUM")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _run(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    exe = browser()
    if exe is None:
        msg = "no Chromium found (chromium, chromium-browser or google-chrome, or $CUST_CHROMIUM)"
        raise RuntimeError(msg)
    return subprocess.run(
        [exe, *FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={BUDGET_MS}",
         *args],
        capture_output=True, text=True, timeout=240, check=False,
    )


def screenshot(page: Path, png: Path, width: int, height: int) -> Path:
    """A ``width`` x ``height`` picture of the top of ``page`` (an HTML file)."""
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cust-chromium-") as profile:
        done = _run([f"--window-size={width},{height}", f"--screenshot={png.resolve()}",
                     page.resolve().as_uri()], Path(profile))
    if not png.exists():
        msg = f"Chromium wrote no screenshot: {done.stderr[-2000:]}"
        raise RuntimeError(msg)
    return png


def dump_dom(page: Path, width: int, height: int = 3000) -> subprocess.CompletedProcess[str]:
    """The page's DOM after its scripts ran (stdout), with the browser's log (stderr)."""
    with tempfile.TemporaryDirectory(prefix="cust-chromium-") as profile:
        return _run([f"--window-size={width},{height}", "--enable-logging=stderr", "--v=0",
                     "--dump-dom", page.resolve().as_uri()], Path(profile))


def report(out: Path, *extra: str) -> Path:
    """Write the weekly report of the bundled sample to ``out`` (a real ``cust`` process)."""
    subprocess.run([sys.executable, "-m", "cust", "report", "weekly", "--out", str(out), "-q",
                    *extra], check=True)
    return out


def main(argv: list[str] | None = None) -> int:
    """Generate the README's screenshot from the bundled sample."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/report-weekly.png"))
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=2000)
    parser.add_argument("--lang", choices=("en", "zh"), default="en")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cust-shot-") as tmp:
        page = report(Path(tmp) / "weekly.html", "--lang", args.lang)
        screenshot(page, args.out, args.width, args.height)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
