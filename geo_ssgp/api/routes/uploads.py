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
    public: Annotated[
        bool,
        Form(description="The log's records are public: pcso and viewer see them too."),
    ] = False,
) -> dict:
    """Ingest a local log: validated, geocoded and stored atomically.

    The records are restricted (analysts only) unless the uploader sends ``public=true``.

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

    result = await run_in_threadpool(svc.ingest_upload, name, b"".join(parts), mapping, public)
    skipped = name in result["skipped"] or bool(result["skipped"])
    info = result["files"][0] if result["files"] else {}
    n_in = int(info.get("n_in", result["in"]))
    accepted = int(info.get("n_accepted", result["accepted"]))
    quarantined = int(info.get("n_quarantined", result["quarantined"]))
    duplicates = int(info.get("n_duplicates", 0))
    outside = int(info.get("n_outside", 0))
    rejected = svc.rejected_rows(name)[["row", "reason", "detail"]] if not skipped else None
    listed = [] if rejected is None else rejected.to_dict("records")
    return {
        "file": name,
        "skipped": skipped,
        "in": n_in,
        "accepted": accepted,
        "quarantined": quarantined,
        "outside": outside,
        "by_reason": {} if skipped else result["by_reason"],
        "rejected": listed,
        "rejected_csv": f"/api/uploads/{name}/rejected.csv" if listed else None,
        "duplicates": duplicates,
        "public": bool(info.get("public", False)),
        "message": _balance(skipped, n_in, accepted, quarantined, outside, duplicates),
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


def _balance(
    skipped: bool, n_in: int, accepted: int, quarantined: int, outside: int, duplicates: int
) -> str:
    """The upload's balance in words; rows outside the area are said to be outside."""
    if skipped:
        return "this file was already stored; nothing changed"
    inside = accepted - outside
    text = f"{n_in:,} rows: {inside:,} stored in the area"
    if outside:
        text += f", {outside:,} outside the area (stored, left out of area statistics)"
    if duplicates:
        text += f", {duplicates:,} already held (counted once)"
    return text + f", {quarantined:,} rejected"


@router.get(
    "/uploads/{name}/rejected.csv",
    summary="Rejected rows of an uploaded file, with row numbers and reasons (CSV)",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **error_responses(401, 403, 404, 429),
    },
)
def rejected_csv(svc: Svc, user: Analyst, name: str) -> Response:
    """The file's quarantined rows: ``row``, ``reason``, ``detail`` and the original columns.

    Cells starting with ``= + - @`` get a leading apostrophe so a spreadsheet shows them as
    text.
    """
    table = svc.rejected_rows(safe_name(name))
    headers = {"Content-Disposition": f'attachment; filename="{safe_name(name)}.rejected.csv"'}
    return Response(table.to_csv(index=False), media_type="text/csv", headers=headers)
