"""The result of an ingest: accepted incidents, quarantine, and the counts that tie them.

:class:`IngestResult` holds the Incidents table, the quarantine and the rows read, per call
and per file; :meth:`IngestResult.balance` checks that rows in = accepted + quarantined.
:func:`concat_results` joins results of separate calls, and :func:`empty_result` is the
result of reading no files, with the same columns and dtypes as any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import geopandas as gpd
import pandas as pd

from geo_ssgp.config import CRS_BNG
from geo_ssgp.schema import INCIDENT_COLUMNS, QUARANTINE_COLUMNS, QUARANTINE_REASONS


@dataclass
class IngestResult:
    """Output of :func:`~geo_ssgp.incidents.read_incidents` (and of ``dedupe.count_once``).

    Attributes
    ----------
    incidents : geopandas.GeoDataFrame
        Accepted rows, EPSG:27700, exactly :data:`geo_ssgp.schema.INCIDENT_COLUMNS`,
        in input order (file order, then row order).
    quarantine : pandas.DataFrame
        Rejected rows with :data:`geo_ssgp.schema.QUARANTINE_COLUMNS`; ``original`` is the
        input row as JSON text.
    n_in : int
        Rows read from all files.
    files : list of dict
        Per file: ``path``, ``name``, ``sha256``, ``source``, ``n_in``, ``n_accepted``,
        ``n_quarantined``.
    """

    incidents: gpd.GeoDataFrame
    quarantine: pd.DataFrame
    n_in: int
    files: list[dict] = field(default_factory=list)

    def balance(self) -> dict:
        """Count rows in, accepted, quarantined (by reason) and duplicates.

        Returns
        -------
        dict
            ``{"in", "accepted", "quarantined", "duplicates", "by_reason": {reason: n}}``;
            reasons in :data:`~geo_ssgp.schema.QUARANTINE_REASONS` order, only those that
            occur. ``duplicates`` are incidents another file or source already holds
            (reason ``duplicate_incident``), not counted in ``quarantined``.

        Raises
        ------
        AssertionError
            If rows in differ from accepted plus quarantined plus duplicates.
        """
        counts = self.quarantine["reason"].value_counts()
        by_reason = {r: int(counts[r]) for r in QUARANTINE_REASONS if r in counts.index}
        duplicates = by_reason.get("duplicate_incident", 0)
        out = {
            "in": int(self.n_in),
            "accepted": len(self.incidents),
            "quarantined": len(self.quarantine) - duplicates,
            "duplicates": duplicates,
            "by_reason": by_reason,
        }
        if out["in"] != out["accepted"] + out["quarantined"] + out["duplicates"]:
            raise AssertionError(f"ingest balance broken: {out}")
        return out


def concat_results(results: Iterable[IngestResult]) -> IngestResult:
    """Concatenate ingest results in order.

    Duplicate-ID checks are not repeated across the results: call
    :func:`~geo_ssgp.incidents.read_incidents` once with all files when records of one
    source may repeat between them.

    Parameters
    ----------
    results : iterable of IngestResult

    Returns
    -------
    IngestResult
        :func:`empty_result` when ``results`` is empty.
    """
    results = list(results)
    if not results:
        return empty_result()
    incidents = _concat([r.incidents for r in results])
    quarantine = _concat([r.quarantine for r in results])
    return IngestResult(
        incidents=gpd.GeoDataFrame(incidents, geometry="geometry", crs=CRS_BNG),
        quarantine=quarantine[QUARANTINE_COLUMNS],
        n_in=sum(r.n_in for r in results),
        files=[f for r in results for f in r.files],
    )


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames concatenated; empty ones (whose text columns may be untyped) left out."""
    rows = [f for f in frames if len(f)] or frames[:1]
    return pd.concat(rows, ignore_index=True)


def empty_result() -> IngestResult:
    """The result of reading no files: no rows, the usual columns and dtypes.

    Returns
    -------
    IngestResult
    """
    data = {c: [] for c in INCIDENT_COLUMNS if c != "geometry"}
    incidents = gpd.GeoDataFrame(data, geometry=gpd.points_from_xy([], []), crs=CRS_BNG)
    incidents = incidents.astype(
        {
            "source_row": "int64",
            "month": "datetime64[ns]",
            "occurred_at": "datetime64[ns]",
            "time_known": bool,
            "restricted": bool,
            "snap_point": bool,
        }
    )
    quarantine = pd.DataFrame({c: [] for c in QUARANTINE_COLUMNS}).astype({"source_row": "int64"})
    return IngestResult(incidents[INCIDENT_COLUMNS], quarantine, n_in=0, files=[])
