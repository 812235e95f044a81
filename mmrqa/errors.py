"""Errors raised by MMRQA.

Every error a user can cause (a bad file, a wrong argument, a model that cannot be loaded) is an
``MMRQAError`` subclass whose message names the input and says what to do. The CLI prints it as
``error: <message>`` and exits with status 2; nothing else should escape the library for bad input.
"""

from __future__ import annotations


class MMRQAError(Exception):
    """Base class of every error MMRQA raises for bad input or an unusable resource."""


class ScanNotFoundError(MMRQAError, FileNotFoundError):
    """The path does not exist (or is a dangling or looping symlink)."""


class UnsupportedFormatError(MMRQAError):
    """The file is not in a format MMRQA reads."""


class CorruptScanError(MMRQAError):
    """The file claims a supported format but cannot be decoded (truncated, damaged, no pixel data)."""


class InvalidScanError(MMRQAError):
    """The scan decodes but its content cannot be assessed (NaN/Inf, constant, too small, wrong dimensionality)."""


class DimensionalityError(InvalidScanError):
    """The scan has more than three dimensions (e.g. 4D fMRI/DWI) and no volume was selected."""


class ScanTooLargeError(MMRQAError, MemoryError):
    """The scan would need more memory than the configured budget; refused before it is read."""


class AmbiguousSeriesError(MMRQAError):
    """A DICOM folder holds several series and none was chosen."""


class InvalidArgumentError(MMRQAError, ValueError):
    """An argument passed to an MMRQA function or command is invalid."""


class ModelLoadError(MMRQAError):
    """A model, adapter or processor cannot be loaded from the given Hub id or path."""


class HubError(MMRQAError):
    """Talking to the Hugging Face Hub failed (after bounded retries)."""


class OutputError(MMRQAError, OSError):
    """An output cannot be written (read-only folder, full disk); earlier results are left intact."""
