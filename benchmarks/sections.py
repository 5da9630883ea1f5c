"""Sections of ``RESULTS.md`` that benchmarks other than the main runner write."""

from __future__ import annotations

from pathlib import Path


def write_section(results: Path, section: str, lines: list[str]) -> None:
    """Replace (or append) the section titled ``section`` of ``results``, keeping the rest.

    ``lines`` start with the section's own title line; the section ends at the next
    ``## `` title.
    """
    text = results.read_text(encoding="utf-8") if results.exists() else "# Benchmark results\n"
    head, _, rest = text.partition(section)
    tail = rest[rest.index("\n## "):] if "\n## " in rest else ""
    results.write_text(head.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n" + tail,
                       encoding="utf-8")
