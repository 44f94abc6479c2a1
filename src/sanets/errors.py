"""Exceptions raised by sanets.

Every error sanets raises on bad input derives from :class:`SanetsError` and
from the built-in exception a caller would naturally catch (``ValueError``,
``FileNotFoundError``), so both ``except sanets.errors.SanetsError`` and
``except ValueError`` work.
"""


class SanetsError(Exception):
    """Base class of every sanets error."""


class ModelFileError(SanetsError, ValueError):
    """A saved model file is missing, truncated, or not a sanets model."""


class ModelFileNotFoundError(ModelFileError, FileNotFoundError):
    """A saved model file does not exist."""


class DataError(SanetsError, ValueError):
    """A data file is corrupt, truncated, or does not match the protocol."""


class DataNotFoundError(DataError, FileNotFoundError):
    """A dataset was not found in any searched directory and was not downloaded."""


class CodecError(SanetsError, ValueError):
    """A ``.san`` file is missing, truncated, corrupt, of another format, or coded with another model."""


class OutOfReachError(SanetsError, ValueError):
    """A codec cannot reach the quality asked for; ``floor`` is the lowest error (%) it reached."""

    def __init__(self, message: str, floor: float) -> None:
        super().__init__(message)
        self.floor = floor

    def __reduce__(self) -> tuple:  # so that it crosses from a worker process whole
        return type(self), (str(self), self.floor)


class CheckpointError(SanetsError, ValueError):
    """A training checkpoint cannot be resumed: unreadable, or made with other arguments or data."""


class OutputError(SanetsError, ValueError):
    """An output path would overwrite an input or another output, or its folder cannot be written (checked before
    any work)."""


class MissingExtraError(SanetsError, ImportError):
    """A feature needs an optional dependency that is not installed; the message names the pip command."""


class ReproduceError(SanetsError, ValueError):
    """``sanets reproduce`` was asked for something it cannot do (checked before any work)."""


class Interrupted(KeyboardInterrupt):
    """A long job stopped by Ctrl-C after keeping what it finished; the message says what is kept and how to resume.

    It is a ``KeyboardInterrupt``, so code that lets Ctrl-C through still does.
    """
