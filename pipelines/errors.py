"""The exceptions every pipeline raises for problems a user can fix.

The CLI turns any :class:`CustError` into a message on stderr and exit code 2; anything
else that escapes is a bug (exit 1). Messages name the file, the column and what was
found, and end with a ``Hint:`` showing how to fix the call.
"""

from __future__ import annotations


class CustError(Exception):
    """A problem with the input or the invocation, explained to the user (exit 2)."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\nHint: {self.hint}"
        return self.message


class InputFileError(CustError):
    """A file is missing, empty, corrupt, or not what its name says."""


class MissingColumnError(CustError):
    """A required column is not among the headers of an export."""


class ConfigError(CustError):
    """``cust.toml`` or a ``--map`` option cannot be understood."""


class InvalidOptionError(CustError):
    """An option value that the analysis cannot use (bad edges, unknown step...)."""


class EmptySelectionError(CustError):
    """Nothing is left to analyse after filtering (wrong dates, no matching rows)."""


class RejectedRowsError(CustError):
    """``--strict`` was given and some rows were rejected."""


class OutputFileError(CustError):
    """An output (``--out``, ``--rejects``, ``--out-dir``, stdout) could not be written."""
