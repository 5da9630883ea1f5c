r"""Text from the data made safe to show a person: control characters written as escapes.

A cell, a file name or a scenario name can hold anything. On a terminal ``ESC[2J`` clears
the screen and forges output, a carriage return or backspace overwrites what came before,
and U+202E shows ``exe.txt`` as ``txt.exe``; in a chart, the SVG renderer aborts the whole
process on a character that XML does not allow. :func:`printable` writes each such
character as a visible escape (``\x1b``, ``\u202e``), so what is shown is the data, not
what the data would make the screen do. JSON, CSV and Parquet keep the data as it is.
"""

import re

# C0 controls, DEL and C1 controls; the invisible bidirectional marks and overrides, the
# line and paragraph separators and the byte-order mark; lone surrogates (the bytes of a
# file name that are not UTF-8) and U+FFFE/U+FFFF, which XML (and so an SVG) forbids.
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufeff"
    "\ud800-\udfff\ufffe\uffff]"
)
_CONTROL_BUT_NEWLINE = re.compile(_CONTROL.pattern.replace("\x00-\x1f", "\x00-\x09\x0b-\x1f"))


_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _SHORT:
        return _SHORT[char]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str, *, newlines: bool = False) -> str:
    r"""``text`` with every control character written as an escape.

    ``newlines=True`` keeps line breaks (for messages whose lines the program wrote).

    >>> printable("\x1b[2JALL OK\r")
    '\\x1b[2JALL OK\\r'
    """
    return (_CONTROL_BUT_NEWLINE if newlines else _CONTROL).sub(_escape, text)


def printable_data(value: object) -> object:
    """Every string in ``value`` (nested dicts, lists) made :func:`printable`."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_data(k): printable_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [printable_data(v) for v in value]
    return value
