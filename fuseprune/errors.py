"""Errors raised by fuseprune.

Every error derives from :class:`FusepruneError` and from the builtin that
matches its meaning, so callers can catch either. The command line turns any
``FusepruneError`` into a one-line message and exit code 2.
"""

from __future__ import annotations


class FusepruneError(Exception):
    """Base class of every error fuseprune raises on purpose."""


class ConfigError(FusepruneError, ValueError):
    """A configuration value or option is invalid."""


class UnknownNameError(FusepruneError, KeyError):
    """A name (data set, signal, strategy, preset...) is not registered."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class DataError(FusepruneError, ValueError):
    """Input data is empty, malformed or does not match what is expected."""


class CodecError(FusepruneError, ValueError):
    """A table cannot be encoded or a token sequence cannot be decoded."""


class ModelError(FusepruneError, ValueError):
    """A model is missing, unsupported or incompatible with the request."""


class PathNotFoundError(FusepruneError, FileNotFoundError):
    """A file or directory the user named does not exist."""


class NotFittedError(FusepruneError, ValueError):
    """An estimator or report was used before it was fitted or generated."""


class OutputError(FusepruneError, OSError):
    """An output path may not be written: it holds something fuseprune did not write, or cannot be written."""


class PeerNotFoundError(FusepruneError, FileNotFoundError):
    """The side environment where REaLTabFormer itself runs is not built or not found."""
