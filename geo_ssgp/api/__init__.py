"""The web service: FastAPI app with thin routers, dependencies, access rules and a layer cache.

Use :func:`create_app` (``geo-ssgp serve`` runs it with uvicorn).
"""

from geo_ssgp.api.app import create_app

__all__ = ["create_app"]
