"""The per-part rules of the Dask engine, without a cluster: partitions and additive parts.

``--engine dask`` splits files into partitions and runs a stage's per-part function on each;
the stage combines the parts. These tests split the real sample by hand and check that the
combined parts equal the whole-table result, and that partitions keep the files' order.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo_ssgp.areas import area_count_part, area_stats_for, area_stats_from_parts
from geo_ssgp.dask_engine import ROWS_PER_PARTITION, file_groups, text_hashes
from geo_ssgp.filters import Filters
from geo_ssgp.hotspots.count import cell_count_part, cell_count_table
from geo_ssgp.hotspots.grid import make_grid, study_region


def _files(n: int) -> list[Path]:
    return [Path(f"f{i:02d}.csv") for i in range(n)]


def test_file_groups_keep_order_and_size_partitions():
    files = _files(10)
    # 10 files of 100,000 rows: about 300,000 rows a partition -> 4 partitions, in order
    groups = file_groups(files, [100_000] * 10, n_workers=2)
    assert [f for g in groups for f in g] == files
    assert len(groups) == 4 and all(groups)
    assert max(len(g) for g in groups) - min(len(g) for g in groups) <= 1


def test_file_groups_give_every_worker_a_partition_and_never_split_a_file():
    assert len(file_groups(_files(9), [2_000] * 9, n_workers=2)) == 2
    assert len(file_groups(_files(9), [2_000] * 9, n_workers=4)) == 4
    assert file_groups(_files(1), [5 * ROWS_PER_PARTITION], n_workers=2) == [_files(1)]
    assert file_groups([], [], n_workers=2) == []
    # one big file among small ones gets its own partition
    groups = file_groups(_files(4), [10, 10, 1_000_000, 10], n_workers=2)
    assert [len(g) for g in groups] == [2, 1, 1]


def _split(frame: pd.DataFrame, n: int) -> list[pd.DataFrame]:
    return [frame.iloc[idx] for idx in np.array_split(np.arange(len(frame)), n)]


@pytest.mark.slow  # the first area table loads the pack's population, IMD and streets
@pytest.mark.parametrize(
    "filters, level",
    [
        (Filters(), "lsoa21"),
        (Filters.of("2025-03", "2025-05", ["Anti-social behaviour"]), "ward"),
        (Filters.of(None, "2025-02", None), "lsoa11"),
    ],
)
def test_area_parts_add_up_to_the_whole_table(sample_ok, pack, filters, level):
    whole = area_stats_for(sample_ok, pack, filters, level)
    parts = [area_count_part(p, filters, level) for p in _split(sample_ok, 5)]
    combined = area_stats_from_parts(parts, pack, filters, level)
    pd.testing.assert_frame_equal(combined, whole)
    assert combined.attrs == whole.attrs
    assert combined["count"].sum() == len(filters.apply(sample_ok))


def test_cell_parts_add_up_to_the_whole_table(sample_ok, pack):
    grid = make_grid(study_region(pack), cell_size=100.0)
    filters = Filters.of("2025-01", "2025-06", None)
    whole = cell_count_part(sample_ok, filters, grid)
    summed = np.sum([cell_count_part(p, filters, grid) for p in _split(sample_ok, 4)], axis=0)
    np.testing.assert_array_equal(summed, whole)
    table = cell_count_table(grid, summed)
    assert table["count"].sum() == len(filters.apply(sample_ok)) == whole.sum()
    assert (table["count"] > 0).all() and table["cell_id"].is_monotonic_increasing
    # a snap point carries many incidents: the busiest 100 m cell holds far more than one
    assert table["count"].max() > 50
    centre = grid.locate(table["x"].to_numpy(), table["y"].to_numpy())
    np.testing.assert_array_equal(centre, table["cell_id"].to_numpy())


def test_text_hashes_match_equal_texts_anywhere_and_tell_texts_apart(sample_result):
    """The repeated-ID check compares hashes made in different workers: equal IDs must hash
    equally whatever else a partition holds, and the sample's distinct IDs must not collide."""
    ids = sample_result.incidents["incident_id"]
    hashes = text_hashes(ids)
    assert len(np.unique(hashes)) == ids.nunique() > 40_000
    part = ids.iloc[100:200]
    np.testing.assert_array_equal(text_hashes(part), hashes[100:200])
    np.testing.assert_array_equal(text_hashes(pd.Series(list(part), dtype=object)),
                                  hashes[100:200])
    texts = pd.Series(["", "a", "a\x00", "ab", "a" * 8, "a" * 9, "é", None], dtype="str")
    got = text_hashes(texts)
    assert len(set(got[:-1])) == 7 and got[-1] == got[0]  # missing hashes as ""
    assert text_hashes(texts.iloc[:0]).dtype == np.uint64
