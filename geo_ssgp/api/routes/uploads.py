"""Upload of a local incident log and removal of stored datasets (analyst).

The upload goes through the same ingest as ``geo-ssgp ingest``; ``DELETE /api/datasets/{id}``
is ``geo-ssgp datasets remove``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Request, Response, UploadFile, status

from geo_ssgp.api.auth import Analyst
from geo_ssgp.api.errors import error_responses
from geo_ssgp.api.routes.data import Svc
from geo_ssgp.api.schemas import DatasetOut, UploadResult
from geo_ssgp.incidents import parse_columns

router = APIRouter(prefix="/api", tags=["uploads"])

CHUNK = 1 << 20


def safe_name(name: str | None) -> str:
    """A file name without folders or unusual characters (the dataset's name)."""
    base = Path(name or "").name
    clean = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._")[:100]
    return clean or "upload.csv"


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE, detail=f"the file is larger than {limit:,} bytes"
    )


@router.post(
    "/uploads",
    summary="Upload a local incident log (CSV or Excel)",
    response_model=UploadResult,
    responses=error_responses(400, 401, 403, 409, 413, 429),
)
async def upload(
    request: Request,
    svc: Svc,
    user: Analyst,
    file: Annotated[UploadFile, File(description="Local incident log, CSV or .xlsx.")],
    columns: Annotated[
        str | None,
        Form(max_length=2000, description="Column mapping, e.g. lon=X,lat=Y,date=D,type=T."),
    ] = None,
) -> dict:
    """Ingest a local log as restricted records: validated, geocoded and stored atomically.

    Rows that cannot be used are quarantined with a reason; a file that cannot be read at all
    gets HTTP 400 with the reason and nothing is stored.
    """
    limit = svc.settings.max_upload_bytes
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit + 64 * 1024:
        raise _too_large(limit)
    parts, size = [], 0
    while chunk := await file.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        parts.append(chunk)
    mapping = parse_columns(columns) if columns else None
    name = safe_name(file.filename)
    from starlette.concurrency import run_in_threadpool

    result = await run_in_threadpool(svc.ingest_upload, name, b"".join(parts), mapping)
    skipped = name in result["skipped"] or bool(result["skipped"])
    info = result["files"][0] if result["files"] else {}
    n_in = int(info.get("n_in", result["in"]))
    accepted = int(info.get("n_accepted", result["accepted"]))
    quarantined = int(info.get("n_quarantined", result["quarantined"]))
    duplicates = int(info.get("n_duplicates", 0))
    outside = 0 if skipped else int(info.get("n_outside_area", 0))
    message = (
        "this file was already stored; nothing changed"
        if skipped
        else f"{accepted:,} of {n_in:,} rows stored"
        + (f", of which {outside:,} outside the district and not in any map or rate" if outside
           else "")
        + f", {quarantined:,} quarantined"
        + (f", {duplicates:,} already held (counted once)" if duplicates else "")
    )
    return {
        "file": name,
        "skipped": skipped,
        "in": n_in,
        "accepted": accepted,
        "outside_area": outside,
        "quarantined": quarantined,
        "by_reason": {} if skipped else result["by_reason"],
        "message": message,
    }


@router.get(
    "/datasets",
    summary="Stored datasets (analyst)",
    response_model=list[DatasetOut],
    responses=error_responses(401, 403, 429),
)
def list_datasets(svc: Svc, user: Analyst) -> list[dict]:
    """Every ingested file in the store, oldest first."""
    return svc.datasets()


@router.delete(
    "/datasets/{dataset_id}",
    summary="Remove a stored dataset (analyst)",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 429),
)
def remove_dataset(svc: Svc, user: Analyst, dataset_id: int) -> Response:
    """Remove one dataset and its files atomically; every cached layer is recomputed."""
    svc.remove_dataset(dataset_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
