"""The app's routers: JSON/GeoJSON data, focus areas, uploads and HTML pages.

Each module holds thin routes (dependencies, one service call, a documented response);
errors are mapped to status codes by :mod:`geo_ssgp.api.errors`.
"""
