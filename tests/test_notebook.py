"""The analyst walkthrough notebook runs end to end on the real sample and shows the results.

The notebook is executed once per session with nbclient on the native kernel of the Python
running the tests (the project's venv), never a kernelspec found elsewhere on the machine.
"""

from __future__ import annotations

import base64
import re
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient

#: Executing the notebook takes several seconds (a kernel start and the whole walkthrough):
#: not part of the fast subset (`pytest -m "not slow"`).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "hotspots_walkthrough.ipynb"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NAMED = {
    "City centre & Gloucester Park": ("city centre", "Gloucester Park"),
    "Kingsholm": ("Kingsholm",),
    "Barton & Tredworth around Widden Street": ("Barton and Tredworth", "Widden Street"),
}


def _native_kernel() -> AsyncKernelManager:
    """Kernel manager for ipykernel on ``sys.executable`` (no kernelspec folders searched)."""
    specs = KernelSpecManager(kernel_dirs=[], ensure_native_kernel=True)
    return AsyncKernelManager(kernel_name=NATIVE_KERNEL_NAME, kernel_spec_manager=specs)


@pytest.fixture(scope="session")
def executed():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb,
        km=_native_kernel(),
        timeout=600,
        kernel_name=NATIVE_KERNEL_NAME,
        resources={"metadata": {"path": str(ROOT)}},
    )
    client.execute()
    return nb


def _cell(nb, tag: str):
    cells = [c for c in nb.cells if tag in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"expected one cell tagged {tag!r}, found {len(cells)}"
    return cells[0]


def _stdout(nb, tag: str) -> str:
    return "".join(
        o.get("text", "")
        for o in _cell(nb, tag).outputs
        if o.output_type == "stream" and o.get("name") == "stdout"
    )


def _outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def _number(text: str) -> int:
    return int(text.replace(",", ""))


def test_saved_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) >= 10
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert nb.cells[-1].cell_type == "markdown"
    assert "Why `grid-count` is the default" in nb.cells[-1].source


def test_runs_without_errors(executed):
    errors = [o for o in _outputs(executed) if o.output_type == "error"]
    assert errors == [], [f"{e.ename}: {e.evalue}" for e in errors]
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == list(range(1, len(code) + 1))


def test_kernel_is_the_project_python(executed):
    out = _stdout(executed, "setup")
    prefix = re.search(r"^Prefix: (.+)$", out, re.MULTILINE)
    executable = re.search(r"^Python: (.+)$", out, re.MULTILINE)
    assert prefix and executable, out
    assert Path(prefix.group(1)).resolve() == Path(sys.prefix).resolve()
    assert Path(executable.group(1)).resolve() == Path(sys.executable).resolve()


def test_balance_line(executed):
    out = _stdout(executed, "balance")
    m = re.search(r"Balance: ([\d,]+) in = ([\d,]+) accepted \+ ([\d,]+) quarantined", out)
    assert m, out
    n_in, accepted, quarantined = (_number(g) for g in m.groups())
    assert n_in == 44_665
    assert n_in == accepted + quarantined
    assert 0 < quarantined < n_in // 10
    assert "Files read: 9 " in out
    inside = re.search(r"inside Gloucester \(status ok\): ([\d,]+)", out)
    outside = re.search(r"\(outside_area\): ([\d,]+)", out)
    assert inside and outside, out
    assert _number(inside.group(1)) + _number(outside.group(1)) == accepted
    assert _number(inside.group(1)) >= 14_331


def test_lsoa_agreement_printed(executed):
    out = _stdout(executed, "agreement")
    m = re.search(r"agreement: ([\d,]+) of ([\d,]+) Gloucester rows \(([\d.]+)%\)", out)
    assert m, out
    agree, compared = _number(m.group(1)), _number(m.group(2))
    assert compared == 14_331
    assert agree <= compared
    assert float(m.group(3)) == pytest.approx(100 * agree / compared, abs=0.05)


def test_district_rates_printed(executed):
    out = _stdout(executed, "districts")
    assert "Period: 2025-01 to 2025-09 (9 months)" in out
    m = re.search(r"Gloucester: (\d+) .* Gloucestershire: (\d+) \(([\d.]+)x\)", out)
    assert m, out
    city, county = int(m.group(1)), int(m.group(2))
    assert city > county > 0


@pytest.mark.parametrize("tag", ["named_default", "named_lsoa"])
def test_three_named_hotspots_found(executed, tag):
    out = _stdout(executed, tag)
    lines = {line.split(":")[0].strip(): line for line in out.splitlines() if ": rank " in line}
    assert set(lines) == set(NAMED), out
    for place, words in NAMED.items():
        label = lines[place].split(" - ", 1)[1]
        assert all(w in label for w in words), (place, label)
    assert "city centre" in out and "Gloucester Park" in out
    assert "Kingsholm" in out and "Widden Street" in out


def test_default_method_named_in_backtest(executed):
    out = _stdout(executed, "backtest")
    lines = re.findall(r"At (\d+)% of the area: (\S+) PAI ([\d.]+), best (\S+)", out)
    assert [(cov, best) for cov, _, _, best in lines] == [
        ("1", "grid-count"),
        ("3", "grid-count"),
        ("5", "grid-count"),
    ]
    pais = [float(p) for _, _, p, _ in lines]
    assert pais == sorted(pais, reverse=True)
    assert pais[0] > 1


def test_plots_are_pngs(executed):
    images = [
        base64.b64decode(o["data"]["image/png"])
        for o in _outputs(executed)
        if o.output_type == "display_data" and "image/png" in o.get("data", {})
    ]
    assert len(images) >= 3
    assert all(img.startswith(PNG_MAGIC) for img in images)
    assert len(set(images)) == len(images)
    for tag in ("choropleth", "hotspot_map", "pai_plot"):
        kinds = [o.get("data", {}).keys() for o in _cell(executed, tag).outputs]
        assert any("image/png" in k for k in kinds), tag
