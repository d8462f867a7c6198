"""Typed errors that every stage raises, so each entry point reports them once.

The CLI turns any :class:`GeoSsgpError` into one line and exit code 2; the API maps each
class to a status code in one table (``geo_ssgp.api.errors``). Anything else is a bug and
is left to propagate: nothing catches a bare ``Exception`` to hide it.

Every class also derives from the built-in exception that describes it (``ValueError``,
``KeyError``, ``RuntimeError``), so callers that only know the built-ins still work.
"""

from __future__ import annotations


class GeoSsgpError(Exception):
    """Base class of the project's own errors.

    Parameters
    ----------
    message : str
        What went wrong, in words a user can act on.
    param : str, optional
        The parameter or field at fault (``"from"``, ``"crime_type"``, ``"method"``),
        used by the API to say where the fault is.
    """

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param

    def __str__(self) -> str:
        return self.message


class BadInput(GeoSsgpError, ValueError):
    """A value given by the user is invalid (unknown crime type, bad month, bad method)."""


class NotEnoughData(GeoSsgpError, ValueError):
    """The input is valid but too small for the analysis (e.g. KDE needs two incidents)."""


class NotFound(GeoSsgpError, KeyError):
    """A named thing does not exist (a ward, an LSOA, a focus area, a hotspot rank)."""


class Forbidden(GeoSsgpError, PermissionError):
    """The caller's role may not see or do this (restricted records, writes)."""


class StaleWrite(GeoSsgpError, RuntimeError):
    """A write based on a version of a record that has changed since (lost-update guard)."""


class StillComputing(GeoSsgpError, TimeoutError):
    """A result is still being computed in the background; ask again shortly."""


class PackError(GeoSsgpError, ValueError):
    """An area pack manifest is invalid or names a file that does not exist."""


class IngestError(GeoSsgpError, ValueError):
    """An input file cannot be read at all (not a row-level problem: those are quarantined)."""


class AlreadyStored(IngestError):
    """The same file was stored by a concurrent ingest; nothing changed."""


class AssetError(GeoSsgpError, RuntimeError):
    """A front-end asset (template, script, vendored library) is missing."""
