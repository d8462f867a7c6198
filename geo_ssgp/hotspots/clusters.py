"""Density-based point clusters (DBSCAN, HDBSCAN) as hotspot polygons.

Police.uk incidents sit on anonymous snap points, so many share one coordinate. Both
methods work on the distinct map points, weighted by their incidents:

* DBSCAN runs on the distinct coordinates with ``sample_weight`` = incidents per
  coordinate, which gives exactly the clustering of the full point set at a fraction
  of the cost.
* HDBSCAN: scikit-learn's ``HDBSCAN`` has no sample weights, and repeating every
  incident makes its cost grow with the square of the incidents (Prim's tree over all
  points). :func:`weighted_hdbscan_labels` runs scikit-learn's own HDBSCAN steps on the
  distinct map points instead, with the weights entering exactly where incidents do:
  a point's core distance is the distance to its ``min_samples``-th nearest incident
  (its own incidents at 0 m, :func:`weighted_kth_distance`); the minimum spanning tree
  of mutual reachability joins the map points; each point's other incidents hang off
  it at its core distance (the tree of every incident is exactly this, since copies of
  a point are closer to each other than to anything else); cluster sizes,
  ``min_cluster_size`` and stability then count incidents. The result is HDBSCAN on
  every incident (tested: the same clusters and noise as ``sklearn.cluster.HDBSCAN``
  on the repeated points, up to the order of equal distances) at the cost of the map
  points: 0.05-0.08 s instead of 0.7-1.9 s (by machine load) for a year of Gloucester
  (16,969 incidents on 1,255 points), 0.16 s instead of 17 s for all 43,216 incidents
  of the two sources under load.

Parameter rules (sfhotspot's ``hotspot_dbscan`` rules):

* ``min_samples`` = ``min(50, max(5, ceil(sqrt(n))))`` for ``n`` incidents;
* ``eps`` = median, over incidents, of the distance to the ``min_samples - 1``-th
  nearest other incident, divided by ``sqrt(density_adjust)`` (default 2: about twice
  the typical local density), and at least ``min_eps_m`` (default 10 m) because on
  snap-point data that median can be zero.
* HDBSCAN ``min_cluster_size`` = the same ``min_samples`` rule; ``min_samples`` = 10
  (scikit-learn's default, ``min_cluster_size``, merges a planted 200-incident cluster
  with the sparse background around it into one low-density cluster; 5, 10 and 20
  all find it and score alike in the backtest); cluster selection ``"eom"``.

Polygons: the concave hull (``shapely.concave_hull``, ratio 0.75) of each cluster's
distinct coordinates, buffered by ``buffer_m`` (default 25 m) and clipped to the
region. Noise points make no polygon.

Snap points: a cluster whose incidents all sit on **one police.uk map point** is not
an area. It is reported as a point hotspot (Point geometry, ``kind = "map point"``,
``description`` "one police.uk map point: 537 incidents", no density), never as a
buffered polygon ranked by a density of hundreds of thousands per km². A map point
carrying ``min_cluster_size`` incidents or more can be an HDBSCAN cluster on its own,
as with every incident.

Ranking (``rank``): by default by incidents assigned to the cluster (as sfhotspot);
``rank="density"`` ranks area clusters by incidents per km² of their polygon (map
points then have no density and come last).

District-sized clusters are rejected: a cluster whose polygon covers more than
``max_area_share`` (default 5 %) of the region says the parameters merge the town into
one blob, not where to patrol. It is dropped from the hotspots with a ``UserWarning``
and listed in the layer's ``parameters["rejected_clusters"]``.
"""

from __future__ import annotations

import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from geo_ssgp.config import CRS_BNG
from geo_ssgp.errors import BadInput, NotEnoughData
from geo_ssgp.hotspots.grid import (
    region_geometry,
    region_label,
    snap_point_counts,
)
from geo_ssgp.hotspots.layer import HotspotLayer, finish_hotspots

DEFAULT_BUFFER_M = 25.0
DEFAULT_HULL_RATIO = 0.75
DEFAULT_DENSITY_ADJUST = 2.0
DEFAULT_MIN_EPS_M = 10.0
MIN_SAMPLES_RULE = "min(50, max(5, ceil(sqrt(n incidents))))"
#: Ranking choices: column and description.
RANKS = {
    "density": ("density_per_km2", "incidents assigned to the cluster per km² of its polygon"),
    "incidents": ("cluster_incidents", "incidents assigned to the cluster"),
}
DEFAULT_RANK = "incidents"
#: Largest share of the region one cluster polygon may cover.
DEFAULT_MAX_AREA_SHARE = 0.05
DEFAULT_HDBSCAN_MIN_SAMPLES = 10


def default_min_samples(n: int) -> int:
    """The minimum-samples rule: ``min(50, max(5, ceil(sqrt(n))))``, at most ``n``.

    Parameters
    ----------
    n : int
        Number of incidents.

    Returns
    -------
    int
    """
    return int(min(n, 50, max(5, math.ceil(math.sqrt(n)))))


def weighted_kth_distance(xy: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Distance from each coordinate to its ``k``-th nearest *other* incident.

    Parameters
    ----------
    xy : numpy.ndarray
        ``(m, 2)`` distinct coordinates.
    weights : numpy.ndarray
        Incidents at each coordinate.
    k : int
        Rank of the neighbour (other incidents at the same coordinate count, at 0 m).

    Returns
    -------
    numpy.ndarray
        One distance per coordinate (``inf`` if fewer than ``k`` other incidents).
    """
    weights = np.asarray(weights, dtype=np.int64)
    if k <= 0:
        return np.zeros(len(xy))
    n_query = min(len(xy), k + 1)
    dist, idx = cKDTree(xy).query(xy, k=n_query)
    dist, idx = dist.reshape(len(xy), -1), idx.reshape(len(xy), -1)
    w = weights[idx].astype(float)
    w[:, 0] -= 1  # the focal coordinate holds the incident itself
    cum = np.cumsum(w, axis=1)
    reached = cum >= k
    first = np.where(reached.any(axis=1), reached.argmax(axis=1), -1)
    out = np.full(len(xy), np.inf)
    ok = first >= 0
    out[ok] = dist[ok, first[ok]]
    return out


def weighted_hdbscan_labels(
    xy: np.ndarray,
    weights: np.ndarray,
    min_cluster_size: int,
    min_samples: int,
    cluster_selection_method: str = "eom",
) -> np.ndarray:
    """HDBSCAN cluster label of each weighted map point (-1 = noise).

    Equals ``sklearn.cluster.HDBSCAN(min_cluster_size, min_samples,
    cluster_selection_method).fit(np.repeat(xy, weights, axis=0))`` (Euclidean,
    ``alpha`` 1) up to the order of equal distances, built from scikit-learn's own
    HDBSCAN routines (``sklearn.cluster._hdbscan``: the mutual-reachability spanning
    tree, the single-linkage tree, the condensed tree and cluster selection; they are
    not public API, so the tests compare the result with the public estimator):

    1. core distance of each point: distance to its ``min_samples``-th nearest
       incident, counting the point itself (:func:`weighted_kth_distance`);
    2. minimum spanning tree of the mutual reachability distance between the points;
    3. each point's other ``weights - 1`` incidents joined to it at its core distance;
    4. single-linkage tree, condensed tree (sizes in incidents) and selection.

    Parameters
    ----------
    xy : numpy.ndarray
        ``(m, 2)`` distinct coordinates.
    weights : numpy.ndarray
        Incidents at each coordinate (>= 1).
    min_cluster_size, min_samples : int
        Counted in incidents (``min_samples`` includes the incident itself).
    cluster_selection_method : {"eom", "leaf"}

    Returns
    -------
    numpy.ndarray of int
        One label per coordinate.
    """
    from sklearn.cluster._hdbscan._linkage import (
        MST_edge_dtype,
        make_single_linkage,
        mst_from_data_matrix,
    )
    from sklearn.cluster._hdbscan._tree import tree_to_labels
    from sklearn.metrics import DistanceMetric

    if cluster_selection_method not in {"eom", "leaf"}:
        raise BadInput(
            f"cluster_selection_method must be 'eom' or 'leaf', not {cluster_selection_method!r}",
            param="cluster_selection_method",
        )
    xy = np.ascontiguousarray(xy, dtype=float)
    weights = np.asarray(weights, dtype=np.int64)
    core = np.ascontiguousarray(weighted_kth_distance(xy, weights, min_samples - 1))
    tree = mst_from_data_matrix(xy, core, DistanceMetric.get_metric("euclidean"), 1.0)
    owner = np.repeat(np.arange(len(xy)), weights - 1)
    copies = np.empty(len(owner), dtype=MST_edge_dtype)
    copies["current_node"] = owner
    copies["next_node"] = len(xy) + np.arange(len(owner))
    copies["distance"] = core[owner]
    edges = np.concatenate([tree, copies])
    edges = edges[np.argsort(edges["distance"], kind="stable")]
    labels, _ = tree_to_labels(
        make_single_linkage(edges), int(min_cluster_size), cluster_selection_method
    )
    return np.asarray(labels[: len(xy)], dtype=np.int64)


def default_eps(
    snaps: gpd.GeoDataFrame,
    min_samples: int,
    density_adjust: float = DEFAULT_DENSITY_ADJUST,
    min_eps_m: float = DEFAULT_MIN_EPS_M,
) -> float:
    """The eps rule: incident-weighted median k-distance / sqrt(density_adjust).

    Parameters
    ----------
    snaps : geopandas.GeoDataFrame
        Output of :func:`~geo_ssgp.hotspots.grid.snap_point_counts`.
    min_samples : int
    density_adjust : float
    min_eps_m : float
        Floor of the result in metres.

    Returns
    -------
    float
    """
    xy = snaps[["x", "y"]].to_numpy()
    w = snaps["n_incidents"].to_numpy()
    kd = weighted_kth_distance(xy, w, min_samples - 1)
    order = np.argsort(kd, kind="stable")
    cum = np.cumsum(w[order])
    median = kd[order][np.searchsorted(cum, cum[-1] / 2.0)]
    if not np.isfinite(median):
        median = 0.0
    return float(max(median / math.sqrt(density_adjust), min_eps_m))


def cluster_polygons(
    xy: np.ndarray,
    labels: np.ndarray,
    region: gpd.GeoDataFrame | shapely.Geometry | None,
    buffer_m: float,
    hull_ratio: float,
) -> gpd.GeoDataFrame:
    """One buffered concave-hull polygon per cluster label (noise ``-1`` excluded).

    Parameters
    ----------
    xy : numpy.ndarray
        ``(m, 2)`` coordinates.
    labels : numpy.ndarray
        Cluster label per coordinate.
    region : GeoDataFrame, geometry or None
        Polygons are clipped to it.
    buffer_m : float
    hull_ratio : float
        ``shapely.concave_hull`` ratio (1 = convex hull).

    Returns
    -------
    geopandas.GeoDataFrame
        ``cluster_id``, ``map_points`` (distinct coordinates) and geometry,
        EPSG:27700: the buffered hull, or the Point itself for a cluster on one map
        point.
    """
    keep = labels >= 0
    ids, inverse = np.unique(labels[keep], return_inverse=True)
    if len(ids) == 0:
        return gpd.GeoDataFrame({"cluster_id": [], "map_points": []}, geometry=[], crs=CRS_BNG)
    order = np.argsort(inverse, kind="stable")
    coords = pd.DataFrame(xy[keep][order], columns=["x", "y"]).assign(c=inverse[order])
    distinct = coords.drop_duplicates().groupby("c").size().to_numpy()
    first = coords.groupby("c")[["x", "y"]].first().to_numpy()
    pts = shapely.points(xy[keep][order])
    multi = shapely.multipoints(pts, indices=inverse[order])
    hulls = shapely.concave_hull(multi, ratio=hull_ratio)
    polys = shapely.buffer(hulls, buffer_m)
    if region is not None:
        polys = shapely.intersection(polys, region_geometry(region))
    one = distinct == 1
    polys[one] = shapely.points(first[one])
    return gpd.GeoDataFrame(
        {"cluster_id": ids.astype(np.int64), "map_points": distinct},
        geometry=polys,
        crs=CRS_BNG,
    )


def _reject_district_sized(polys: gpd.GeoDataFrame, region, max_area_share: float):
    """Drop cluster polygons covering more than ``max_area_share`` of the region."""
    if region is None or polys.empty:
        return polys, []
    limit = max_area_share * region_geometry(region).area
    big = (polys.geometry.area > limit).to_numpy()
    rejected = [
        f"cluster {row.cluster_id}: {row.geometry.area / 1e6:.2f} km² holding "
        f"{row.cluster_incidents:,} incidents covers more than {max_area_share:.0%} of the "
        "region; lower eps / min_cluster_size"
        for row in polys[big].itertuples()
    ]
    for text in rejected:
        warnings.warn(f"district-sized cluster rejected: {text}", UserWarning, stacklevel=4)
    return polys[~big], rejected


def _layer(
    name: str,
    incidents: gpd.GeoDataFrame,
    region,
    polys: gpd.GeoDataFrame,
    assigned: pd.Series,
    params: dict,
    rank: str,
    max_area_share: float,
) -> HotspotLayer:
    if rank not in RANKS:
        raise BadInput(f"rank must be one of {tuple(RANKS)}, not {rank!r}", param="rank")
    polys["cluster_incidents"] = polys["cluster_id"].map(assigned).fillna(0).astype(np.int64)
    polys = polys[~polys.geometry.is_empty].copy()
    polys, rejected = _reject_district_sized(polys, region, max_area_share)
    point = (polys["map_points"] == 1).to_numpy()
    polys["kind"] = np.where(point, "map point", "area")
    polys["description"] = [
        f"one police.uk map point: {n:,} incidents" if one else f"{m:,} map points: {n:,} incidents"
        for one, n, m in zip(point, polys["cluster_incidents"], polys["map_points"], strict=True)
    ]
    density = polys["cluster_incidents"] / polys.geometry.area * 1e6
    polys["density_per_km2"] = density.where(~point)
    polys["score"] = polys[RANKS[rank][0]].astype(float)
    hot = finish_hotspots(polys, incidents)
    params = {
        "method": name,
        **params,
        "hull": f"concave hull (shapely.concave_hull ratio {params['hull_ratio']}), buffered",
        "map_points": "a cluster on one police.uk map point is a point hotspot, not an area",
        "noise": "noise points make no hotspot",
        "rank": rank,
        "score": RANKS[rank][1],
        "max_area_share": max_area_share,
        "rejected_clusters": rejected,
        "region": region_label(region) if region is not None else None,
    }
    return HotspotLayer(name, hot, params, None)


def dbscan_hotspots(
    incidents: gpd.GeoDataFrame,
    region: gpd.GeoDataFrame | None = None,
    *,
    eps: float | None = None,
    min_samples: int | None = None,
    density_adjust: float = DEFAULT_DENSITY_ADJUST,
    min_eps_m: float = DEFAULT_MIN_EPS_M,
    buffer_m: float = DEFAULT_BUFFER_M,
    hull_ratio: float = DEFAULT_HULL_RATIO,
    rank: str = DEFAULT_RANK,
    max_area_share: float = DEFAULT_MAX_AREA_SHARE,
) -> HotspotLayer:
    """DBSCAN clusters of incidents (weighted by snap point) as hotspot polygons.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points in EPSG:27700.
    region : geopandas.GeoDataFrame, optional
        Polygons are clipped to it.
    eps : float, optional
        Neighbourhood radius in metres (default: the eps rule).
    min_samples : int, optional
        Incidents within ``eps`` (itself included) to be a core point (default: rule).
    density_adjust, min_eps_m
        Settings of the eps rule.
    buffer_m : float
        Buffer around each cluster hull in metres.
    hull_ratio : float
        Concave hull ratio (1 = convex).
    rank : {"incidents", "density"}
        Hotspot ranking (see module docstring).
    max_area_share : float
        Clusters covering more of the region are rejected with a warning.

    Returns
    -------
    HotspotLayer
        Hotspots with ``cluster_id``, ``cluster_incidents``, ``map_points``, ``kind``
        (``"map point"`` or ``"area"``), ``description``, ``density_per_km2`` (None
        for map points); ``score`` per ``rank``; no surface.
    """
    from sklearn.cluster import DBSCAN

    snaps = snap_point_counts(incidents)
    n = int(snaps["n_incidents"].sum())
    if n == 0:
        raise NotEnoughData("no incidents to cluster")
    ms = default_min_samples(n) if min_samples is None else int(min_samples)
    radius = default_eps(snaps, ms, density_adjust, min_eps_m) if eps is None else float(eps)
    xy = snaps[["x", "y"]].to_numpy()
    labels = (
        DBSCAN(eps=radius, min_samples=ms)
        .fit(xy, sample_weight=snaps["n_incidents"].to_numpy())
        .labels_
    )
    assigned = pd.Series(snaps["n_incidents"].to_numpy()).groupby(labels).sum()
    polys = cluster_polygons(xy, labels, region, buffer_m, hull_ratio)
    params = {
        "eps_m": radius,
        "eps_rule": (
            "median distance to the (min_samples-1)-th nearest incident / "
            f"sqrt({density_adjust}), at least {min_eps_m} m"
            if eps is None
            else "user"
        ),
        "min_samples": ms,
        "min_samples_rule": MIN_SAMPLES_RULE if min_samples is None else "user",
        "weights": "distinct coordinates weighted by incidents (snap points)",
        "buffer_m": buffer_m,
        "hull_ratio": hull_ratio,
    }
    return _layer("dbscan", incidents, region, polys, assigned, params, rank, max_area_share)


def hdbscan_hotspots(
    incidents: gpd.GeoDataFrame,
    region: gpd.GeoDataFrame | None = None,
    *,
    min_cluster_size: int | None = None,
    min_samples: int | None = DEFAULT_HDBSCAN_MIN_SAMPLES,
    cluster_selection_method: str = "eom",
    buffer_m: float = DEFAULT_BUFFER_M,
    hull_ratio: float = DEFAULT_HULL_RATIO,
    rank: str = DEFAULT_RANK,
    max_area_share: float = DEFAULT_MAX_AREA_SHARE,
) -> HotspotLayer:
    """HDBSCAN clusters of weighted map points (scikit-learn) as hotspot polygons.

    Runs on the distinct map points weighted by their incidents
    (:func:`weighted_hdbscan_labels`): the clusters of HDBSCAN on every incident.

    Parameters
    ----------
    incidents : geopandas.GeoDataFrame
        Points in EPSG:27700.
    region : geopandas.GeoDataFrame, optional
        Polygons are clipped to it.
    min_cluster_size : int, optional
        Smallest cluster in incidents (default: the min-samples rule).
    min_samples : int, optional
        Core-distance neighbours (default 10; ``None`` = ``min_cluster_size``).
    cluster_selection_method : {"eom", "leaf"}
    buffer_m, hull_ratio
        Polygon settings.
    rank : {"incidents", "density"}
        Hotspot ranking (see module docstring).
    max_area_share : float
        Clusters covering more of the region are rejected with a warning.

    Returns
    -------
    HotspotLayer
        Hotspots with ``cluster_id``, ``cluster_incidents``, ``map_points``, ``kind``
        (``"map point"`` or ``"area"``), ``description``, ``density_per_km2`` (None
        for map points); ``score`` per ``rank``; no surface.
    """
    snaps = snap_point_counts(incidents)
    weights = snaps["n_incidents"].to_numpy()
    n = int(weights.sum())
    if n < 2:
        raise NotEnoughData("HDBSCAN needs at least two incidents")
    mcs = default_min_samples(n) if min_cluster_size is None else int(min_cluster_size)
    mcs = max(2, mcs)
    ms = mcs if min_samples is None else min(int(min_samples), n)
    xy = snaps[["x", "y"]].to_numpy()
    labels = weighted_hdbscan_labels(xy, weights, mcs, ms, cluster_selection_method)
    assigned = pd.Series(weights).groupby(labels).sum()
    polys = cluster_polygons(xy, labels, region, buffer_m, hull_ratio)
    params = {
        "min_cluster_size": mcs,
        "min_cluster_size_rule": MIN_SAMPLES_RULE if min_cluster_size is None else "user",
        "min_samples": ms,
        "cluster_selection_method": cluster_selection_method,
        "weights": "distinct map points weighted by incidents: core distances, cluster "
        "sizes and stability count incidents (HDBSCAN of every incident)",
        "buffer_m": buffer_m,
        "hull_ratio": hull_ratio,
    }
    return _layer("hdbscan", incidents, region, polys, assigned, params, rank, max_area_share)
