"""The assessment report: one self-contained HTML page that opens offline and prints cleanly.

Charts are drawn with matplotlib's Agg canvas (no pyplot, no global state) and embedded as
base64 PNG; the stylesheet is inline; nothing refers to a URL. The map is drawn from
downsampled rasters so a whole-border assessment renders in seconds.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
from matplotlib.collections import PolyCollection
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from matplotlib.transforms import blended_transform_factory
from numpy.typing import NDArray

from limes.analysis.change_effects import Changes
from limes.analysis.compare import Comparison
from limes.analysis.outputs import (
    WEAK_BELOW,
    km_step,
    mc_agrees,
    path_record,
    ranked_stretches,
    run_label,
    sector_stats,
    stretch_record,
    weak_stretches,
    weakest_km,
)
from limes.analysis.places import Gazetteer, grid_ref, mgrs_ref
from limes.analysis.result import Assessment, Run
from limes.geo.grid import Grid
from limes.geo.hillshade import hillshade
from limes.scenario.errors import ScenarioError
from limes.scenario.model import Scenario
from limes.scenario.schema import BarrierStatus, Light, Mode, Sector
from limes.scenario.summary import covered_km

TEMPLATES = Path(__file__).parent / "templates"
# Largest side, in pixels, of a raster drawn on the map: enough for a page, cheap for 600 km.
MAP_MAX_PX = 900
# Red (interrupted rarely) through amber to green (interrupted reliably).
P_CMAP = LinearSegmentedColormap.from_list("p_interruption", ["#b2182b", "#f4a582", "#1a9850"])
RUN_COLOURS = ["#1f4e79", "#b35806", "#542788", "#1b7837"]
STATUS_COLOURS = {
    BarrierStatus.BUILT: "#4d4d4d",
    BarrierStatus.UNDER_CONSTRUCTION: "#e08214",
    BarrierStatus.PLANNED: "#c2a5cf",
}
STATUS_LABELS = {
    BarrierStatus.BUILT: "built",
    BarrierStatus.UNDER_CONSTRUCTION: "under construction",
    BarrierStatus.PLANNED: "planned",
}


# --- small helpers ----------------------------------------------------------------------------


def png_data_uri(fig: Figure, dpi: int = 110) -> str:
    """The figure as a `data:image/png;base64,…` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def km_ticks(length_km: float, target: int = 8) -> float:
    """A round chainage step giving about `target` marks over the line."""
    raw = max(length_km / target, 1e-9)
    mag = 10 ** math.floor(math.log10(raw))
    return float(next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw))


def block_min(data: NDArray[np.float32], factor: int) -> NDArray[np.float32]:
    """Downsample by taking the lowest finite value of each factor × factor block.

    The minimum, not the mean, so a one-cell gap in the defences still shows on a small map.
    """
    if factor <= 1:
        return data
    h, w = data.shape
    hh, ww = -(-h // factor) * factor, -(-w // factor) * factor
    padded = np.full((hh, ww), np.nan, dtype=np.float32)
    padded[:h, :w] = data
    blocks = padded.reshape(hh // factor, factor, ww // factor, factor)
    out: NDArray[np.float32] = np.fmin.reduce(np.fmin.reduce(blocks, axis=3), axis=1)
    return out


def _is_north_up(grid: Grid) -> bool:
    t = grid.transform
    return t.b == 0 and t.d == 0 and t.a > 0 and t.e < 0


def _window(
    grid: Grid, data: NDArray[Any], bounds: tuple[float, float, float, float]
) -> tuple[NDArray[Any], tuple[float, float, float, float]]:
    """Crop a north-up raster to frame bounds; returns the piece and its extent (l, r, b, t)."""
    xmin, ymin, xmax, ymax = bounds
    t = grid.transform
    c0 = max(0, math.floor((xmin - t.c) / t.a))
    c1 = min(grid.width, math.ceil((xmax - t.c) / t.a))
    r0 = max(0, math.floor((t.f - ymax) / -t.e))
    r1 = min(grid.height, math.ceil((t.f - ymin) / -t.e))
    if c1 <= c0 or r1 <= r0:
        return data[:0, :0], (0.0, 0.0, 0.0, 0.0)
    piece = data[r0:r1, c0:c1]
    return piece, (t.c + c0 * t.a, t.c + c1 * t.a, t.f + r1 * t.e, t.f + r0 * t.e)


def _shrink(
    piece: NDArray[Any], extent: tuple[float, float, float, float], reducer: str
) -> tuple[NDArray[Any], tuple[float, float, float, float]]:
    factor = max(1, math.ceil(max(piece.shape) / MAP_MAX_PX))
    if factor == 1:
        return piece, extent
    if reducer == "min":
        small = block_min(piece.astype(np.float32), factor)
        # Padding to whole blocks moves the far edges out by less than one block.
        cw = (extent[1] - extent[0]) / piece.shape[1]
        ch = (extent[3] - extent[2]) / piece.shape[0]
        left, top = extent[0], extent[3]
        return small, (
            left,
            left + small.shape[1] * factor * cw,
            top - small.shape[0] * factor * ch,
            top,
        )
    return piece[::factor, ::factor], extent


def _km_axis(ax: Any) -> None:
    fmt = FuncFormatter(lambda v, _pos: f"{v / 1000:g}")
    ax.xaxis.set_major_formatter(fmt)
    ax.yaxis.set_major_formatter(fmt)


# --- charts -----------------------------------------------------------------------------------


def _sector_bands(ax: Any, scenario: Scenario, label: bool) -> None:
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    for i, s in enumerate(scenario.spec.sectors):
        if i % 2 == 0:
            ax.axvspan(s.from_km, s.to_km, color="#e9eef4", zorder=0, lw=0)
        if label:
            ax.text(
                (s.from_km + s.to_km) / 2,
                1.03,
                s.name,
                transform=trans,
                ha="center",
                va="bottom",
                fontsize=7.5,
                color="#333",
                clip_on=False,
            )


def _shade_spans(ax: Any, spans: Sequence[tuple[float, float]]) -> None:
    """Full-height red bands over chainage spans, drawn as one collection however many."""
    if not spans:
        return
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    verts = [[(a, 0.0), (b, 0.0), (b, 1.0), (a, 1.0)] for a, b in spans]
    ax.add_collection(
        PolyCollection(verts, transform=trans, facecolors="#d73027", alpha=0.13, lw=0, zorder=0.5),
        autolim=False,
    )


def _barrier_strip(ax: Any, scenario: Scenario) -> None:
    rows = list(STATUS_LABELS)
    for b in scenario.spec.barriers:
        y = rows.index(b.status)
        colour = STATUS_COLOURS[b.status]
        ax.broken_barh(
            [(b.from_km, b.to_km - b.from_km)],
            (y - 0.35, 0.7),
            facecolors=colour,
            edgecolors="#222" if b.status is BarrierStatus.PLANNED else colour,
            lw=0.5,
            hatch="///" if b.status is BarrierStatus.UNDER_CONSTRUCTION else None,
        )
        if b.progress_pct is not None and b.to_km - b.from_km > scenario.length_km / 40:
            ax.text(
                (b.from_km + b.to_km) / 2,
                y,
                f"{b.progress_pct:.0f} %",
                ha="center",
                va="center",
                fontsize=6.5,
                color="black",
            )
    ax.set_yticks(range(len(rows)), [STATUS_LABELS[r] for r in rows], fontsize=7.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlabel("chainage (km from the start of the line)")
    ax.set_title("barriers", loc="left", fontsize=8, color="#333")


def profile_chart(assessment: Assessment, scenario: Scenario, weak_below: float) -> str:
    """P(interruption) against chainage, one panel per run, with sectors and the barrier strip."""
    n = len(assessment.runs)
    fig = Figure(figsize=(10.5, 1.9 * n + 1.3))
    grid = fig.add_gridspec(n + 1, 1, height_ratios=[1.9] * n + [1.0], hspace=0.35)
    length = scenario.length_km
    axes: list[Any] = []
    for i, run in enumerate(assessment.runs):
        ax = fig.add_subplot(grid[i], sharex=axes[0] if axes else None)
        axes.append(ax)
        _sector_bands(ax, scenario, label=i == 0)
        km = sorted(run.per_km, key=lambda k: k.chainage_km)
        if km:
            step = km_step(run.per_km)
            edges = np.array([k.chainage_km for k in km] + [km[-1].chainage_km + step])
            values = np.array([k.p_interruption for k in km], dtype=float)
            colour = RUN_COLOURS[i % len(RUN_COLOURS)]
            ax.stairs(values, edges, fill=True, color=colour, alpha=0.18, lw=0)
            ax.stairs(values, edges, color=colour, lw=1.1)
        _shade_spans(
            ax, [(st.from_km, st.to_km) for st in weak_stretches(run, scenario, weak_below)]
        )
        ax.axhline(weak_below, color="#d73027", ls="--", lw=0.8)
        ax.set_ylim(0, 1)
        ax.set_ylabel("P(interruption)", fontsize=8)
        ax.set_title(
            f"{run.mode.value} · {run.light.value}",
            loc="left",
            fontsize=9,
            fontweight="bold",
            pad=16 if i == 0 else 6,  # room for the sector names above the first panel
        )
        ax.tick_params(labelbottom=False, labelsize=7.5)
        ax.grid(axis="y", color="#ccc", lw=0.5)
    strip = fig.add_subplot(grid[n], sharex=axes[0] if axes else None)
    _barrier_strip(strip, scenario)
    strip.tick_params(labelsize=7.5)
    strip.set_xlim(0, length)
    return png_data_uri(fig)


def difference_chart(comp: Comparison, scenario: Scenario) -> str:
    """The change in P(interruption) per km (other − base), one panel per matched run."""
    n = max(1, len(comp.runs))
    fig = Figure(figsize=(10.5, 1.8 * n + 0.4))
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    for ax, rc in zip(axes, comp.runs, strict=False):
        _sector_bands(ax, scenario, label=ax is axes[0])
        if rc.per_km:
            ch = np.array([c.chainage_km for c in rc.per_km])
            delta = np.array([c.delta for c in rc.per_km])
            width = float(np.median(np.diff(ch))) if len(ch) > 1 else 1.0
            edges = np.append(ch, ch[-1] + width)
            # Two filled step outlines, not one bar patch per km: a whole border has hundreds.
            gain = np.where(delta > 0, delta, 0.0)
            loss = np.where(delta < 0, delta, 0.0)
            ax.stairs(gain, edges, fill=True, color="#1a9850", lw=0)
            ax.stairs(loss, edges, fill=True, color="#d73027", lw=0)
            finite = np.abs(delta[np.isfinite(delta)])
            lim = max(0.05, float(finite.max()) * 1.15 if finite.size else 0.0)
            ax.set_ylim(-lim, lim)
        ax.axhline(0, color="#333", lw=0.7)
        ax.set_ylabel("ΔP", fontsize=8)
        ax.set_title(
            f"{rc.mode.value} · {rc.light.value}: {comp.other} − {comp.base}",
            loc="left",
            fontsize=9,
            fontweight="bold",
            pad=16 if ax is axes[0] else 6,
        )
        ax.tick_params(labelsize=7.5)
        ax.grid(axis="y", color="#ccc", lw=0.5)
    axes[-1].set_xlabel("chainage (km)")
    axes[-1].set_xlim(0, scenario.length_km)
    return png_data_uri(fig)


def change_map(
    base: Assessment, scenario: Scenario, comp: Comparison, changes: Changes
) -> str | None:
    """Where the change acted: ΔP (other − base) over the terrain, the changed assets marked.

    Drawn for the run whose P moved most in total, zoomed to the changed assets and the km
    that moved (5 km around them), with place names and degrees on the axes.
    """
    if not comp.runs:
        return None
    rc = max(comp.runs, key=lambda r: sum(abs(c.delta) for c in r.per_km))
    try:
        b_run = base.run(rc.mode, rc.light)
        o_run = changes.other.run(rc.mode, rc.light)
    except KeyError:
        return None
    other_sc = changes.other_scenario
    marks: list[tuple[float, float, str, str]] = []  # x, y, label, change
    for ch in changes.inputs:
        sc = scenario if ch.change == "removed" else other_sc
        pos = None
        if ch.kind == "sensors":
            pos = sc.sensors[ch.name].position
        elif ch.kind == "units":
            pos = sc.units[ch.name].base
        if pos is not None:
            x, y = sc.position_xy(pos)
            marks.append((x, y, ch.name, ch.change))
        elif ch.kind == "barriers":
            b = next(b for b in sc.spec.barriers if b.id == ch.name)
            bxy = sc.border.point_at(0.5 * (b.from_km + b.to_km) * 1000.0, b.offset_m)
            marks.append((float(bxy[0]), float(bxy[1]), ch.name, ch.change))
    moved = [c.chainage_km for c in rc.per_km if abs(c.delta) > rc.tolerance]
    xs = [m[0] for m in marks]
    ys = [m[1] for m in marks]
    if moved:
        mx, my = scenario.border.point_at(np.asarray(moved) * 1000.0)
        xs += list(np.atleast_1d(mx))
        ys += list(np.atleast_1d(my))
    if xs:
        pad = 5000.0
        bounds = (min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad)
    else:
        bounds = map_bounds(scenario)
    base_map = basemap(scenario, bounds)
    w, h = bounds[2] - bounds[0], bounds[3] - bounds[1]
    fig = Figure(figsize=(9.0, max(4.0, min(10.0, 9.0 * h / w))))
    ax = fig.add_subplot()
    if base_map.shade is not None and base_map.extent is not None:
        ax.imshow(base_map.shade, extent=base_map.extent, cmap="gray", vmin=0, vmax=1, zorder=0)
    pb, po = b_run.rasters.get("p_interruption"), o_run.rasters.get("p_interruption")
    image = None
    if pb is not None and po is not None and pb.grid == po.grid and _is_north_up(pb.grid):
        delta = (po.data - pb.data).astype(np.float32)
        piece, extent = _window(pb.grid, delta, bounds)
        if piece.size:
            small, extent = _shrink(piece, extent, "stride")
            lim = max(0.05, float(np.nanmax(np.abs(small))) if np.isfinite(small).any() else 0.05)
            image = ax.imshow(
                np.ma.masked_invalid(small),
                extent=extent,
                cmap="RdYlGn",
                vmin=-lim,
                vmax=lim,
                alpha=0.75,
                interpolation="nearest",
                zorder=1,
            )
    bx, by = scenario.border.xy.T
    ax.plot(bx, by, color="black", lw=1.6, zorder=3)
    ch0, _ = scenario.locate(0.5 * (bounds[0] + bounds[2]), 0.5 * (bounds[1] + bounds[3]))
    half = 0.5 * max(w, h) / 1000.0
    _chainage_marks(ax, scenario, (max(0.0, float(ch0) / 1000 - half), float(ch0) / 1000 + half))
    style = {"added": ("P", "#1a9850"), "removed": ("X", "#d73027"), "changed": ("o", "#e08214")}
    for x, y, label, change in marks:
        marker, colour = style.get(change, ("o", "#777"))
        ax.plot(x, y, ls="", marker=marker, ms=9, mfc=colour, mec="black", mew=0.7, zorder=6)
        ax.annotate(
            f"{label} ({change})",
            (x, y),
            fontsize=7,
            xytext=(5, 4),
            textcoords="offset points",
            zorder=7,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "lw": 0, "alpha": 0.8},
        )
    _places(ax, Gazetteer(scenario), bounds)
    ax.set_xlim(bounds[0], bounds[2])
    ax.set_ylim(bounds[1], bounds[3])
    ax.set_aspect("equal")
    _lonlat_axis(ax, scenario, bounds)
    ax.tick_params(labelsize=7.5)
    ax.set_title(
        f"What changed · {rc.mode.value} · {rc.light.value}: {comp.other} − {comp.base}",
        loc="left",
        fontsize=10,
        fontweight="bold",
    )
    if image is not None:
        bar = fig.colorbar(image, ax=ax, shrink=0.6, pad=0.02)
        bar.set_label("ΔP(interruption)", fontsize=8)
        bar.ax.tick_params(labelsize=7)
    return png_data_uri(fig, dpi=100)


@dataclass(frozen=True)
class Basemap:
    """The terrain's hillshade cropped to the map, or why there is none."""

    shade: NDArray[np.float64] | None
    extent: tuple[float, float, float, float] | None
    note: str


def basemap(scenario: Scenario, bounds: tuple[float, float, float, float]) -> Basemap:
    """Hillshade of the scenario's terrain over the map bounds (downsampled)."""
    try:
        dem = scenario.terrain()
    except (ImportError, OSError, ValueError, ScenarioError) as exc:
        return Basemap(None, None, f"terrain not shown: {exc}")
    if not _is_north_up(dem.grid):
        return Basemap(None, None, "terrain not shown: its grid is rotated")
    piece, extent = _window(dem.grid, dem.elevation, bounds)
    if piece.size == 0:
        return Basemap(None, None, "terrain not shown: it does not cover the map")
    factor = max(1, math.ceil(max(piece.shape) / MAP_MAX_PX))
    small = piece[::factor, ::factor]
    # Unknown elevation (NaN) is drawn unshaded, as flat ground lit from above.
    shade = np.nan_to_num(hillshade(small, dem.grid.cell_m * factor), nan=1.0)
    # Striding drops the far partial cells: the extent shrinks to what is drawn.
    t = dem.grid.transform
    right = extent[0] + small.shape[1] * factor * t.a
    bottom = extent[3] + small.shape[0] * factor * t.e
    return Basemap(shade, (extent[0], right, bottom, extent[3]), "")


def map_bounds(scenario: Scenario, margin_m: float = 2000.0) -> tuple[float, float, float, float]:
    """Frame bounds of the strip, the sensors and the units, with a margin."""
    xs, ys = [], []
    xmin, ymin, xmax, ymax = scenario.strip_polygon().bounds
    xs += [xmin, xmax]
    ys += [ymin, ymax]
    for pos in [s.position for s in scenario.spec.sensors] + [u.base for u in scenario.spec.units]:
        x, y = scenario.position_xy(pos)
        xs.append(x)
        ys.append(y)
    return (min(xs) - margin_m, min(ys) - margin_m, max(xs) + margin_m, max(ys) + margin_m)


def map_chart(
    run: Run,
    scenario: Scenario,
    base: Basemap,
    bounds: tuple[float, float, float, float],
    gazetteer: Gazetteer | None = None,
    title: str | None = None,
    span_km: tuple[float, float] | None = None,
) -> str:
    """Terrain, P(interruption), worst paths, sensors, units and the line, in the frame.

    With a gazetteer (the sector maps) it also names the places, labels the chainage marks
    with their MGRS reference and gives the axes in latitude and longitude.
    """
    w, h = bounds[2] - bounds[0], bounds[3] - bounds[1]
    fig = Figure(figsize=(9.0, max(4.0, min(11.0, 9.0 * h / w))))
    ax = fig.add_subplot()
    if base.shade is not None and base.extent is not None:
        ax.imshow(
            base.shade,
            extent=base.extent,
            cmap="gray",
            vmin=0,
            vmax=1,
            interpolation="bilinear",
            zorder=0,
        )
    p = run.rasters.get("p_interruption")
    image = None
    if p is not None and _is_north_up(p.grid):
        piece, extent = _window(p.grid, p.data, bounds)
        if piece.size:
            small, extent = _shrink(piece, extent, "min")
            image = ax.imshow(
                np.ma.masked_invalid(small),
                extent=extent,
                cmap=P_CMAP,
                vmin=0,
                vmax=1,
                alpha=0.72,
                interpolation="nearest",
                zorder=1,
            )
    strip = scenario.strip_polygon()
    for ring in (
        [strip.exterior] if strip.geom_type == "Polygon" else [g.exterior for g in strip.geoms]
    ):
        sx, sy = ring.xy
        ax.plot(sx, sy, color="#555", lw=0.6, ls=":", zorder=2)
    bx, by = scenario.border.xy.T
    ax.plot(bx, by, color="black", lw=1.6, zorder=3, label="border")
    _chainage_marks(ax, scenario, span_km)
    for path in run.worst_paths:
        # Dark on a white casing: the heat beneath is already in the path's own colours.
        ax.plot(*path.xy.T, color="white", lw=3.4, zorder=4)
        ax.plot(*path.xy.T, color="#14213d", lw=1.6, zorder=5)
        if path.critical_index >= 0:  # none where no detection can be timely
            cx, cy = path.xy[path.critical_index]
            ax.plot(cx, cy, marker="X", ms=7, mfc="white", mec="black", mew=0.8, zorder=6)
        ax.annotate(
            f"{path.start_chainage_km:g} km · P {path.p_interruption:.2f}",
            path.xy[0],
            fontsize=6.5,
            xytext=(3, 3),
            textcoords="offset points",
            zorder=7,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "lw": 0},
        )
    _assets(ax, scenario, bounds if gazetteer is not None else None)
    ax.set_xlim(bounds[0], bounds[2])
    ax.set_ylim(bounds[1], bounds[3])
    ax.set_aspect("equal")
    if gazetteer is None:
        _km_axis(ax)
        ax.set_xlabel("x (km, scenario frame)", fontsize=8)
        ax.set_ylabel("y (km, scenario frame)", fontsize=8)
    else:
        _places(ax, gazetteer, bounds)
        _lonlat_axis(ax, scenario, bounds)
    ax.tick_params(labelsize=7.5)
    ax.set_title(
        title or f"{run.mode.value} · {run.light.value}",
        loc="left",
        fontsize=10,
        fontweight="bold",
    )
    handles = [
        ax.plot([], [], color="black", lw=1.6, label="border")[0],
        ax.plot([], [], color="#555", lw=0.8, ls=":", label="analysed strip")[0],
        ax.plot([], [], ls="", marker="^", mfc="#ffd92f", mec="black", label="sensor")[0],
        ax.plot([], [], ls="", marker="s", mfc="#4575b4", mec="white", label="unit base")[0],
        ax.plot(
            [], [], ls="", marker="X", mfc="white", mec="black", label="critical detection point"
        )[0],
        ax.plot([], [], color="#14213d", lw=1.6, label="worst crossing path")[0],
    ]
    # Below the map, so it never hides the line.
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.07),
        ncol=3,
        fontsize=7,
        frameon=False,
    )
    if image is not None:
        bar = fig.colorbar(image, ax=ax, shrink=0.6, pad=0.02)
        bar.set_label("P(interruption)", fontsize=8)
        bar.ax.tick_params(labelsize=7)
    return png_data_uri(fig, dpi=100)


def sector_map(run: Run, scenario: Scenario, sector: Sector, gazetteer: Gazetteer) -> str:
    """One sector's stretch of the line, close up, with place names and grid references."""
    import shapely
    from shapely.ops import substring

    line = scenario.border.line
    end = min(sector.to_km * 1000.0, scenario.border.length_m)
    piece = substring(line, sector.from_km * 1000.0, end)
    reach = max(scenario.spec.strip.outside_m, scenario.spec.strip.inside_m) + 3000.0
    x0, y0, x1, y1 = shapely.buffer(piece, reach).bounds
    bounds = (x0, y0, x1, y1)
    base = basemap(scenario, bounds)
    title = (
        f"{sector.name} (km {sector.from_km:g}–{sector.to_km:g}, {sector.command}) · "
        f"{run.mode.value} · {run.light.value}"
    )
    return map_chart(run, scenario, base, bounds, gazetteer, title, (sector.from_km, sector.to_km))


def _places(ax: Any, gazetteer: Gazetteer, bounds: tuple[float, float, float, float]) -> None:
    for p in gazetteer.places:
        if not (bounds[0] <= p.x <= bounds[2] and bounds[1] <= p.y <= bounds[3]):
            continue
        town = p.kind in ("town", "village", "city", "camp", "crossing", "garrison")
        if town:
            ax.plot(p.x, p.y, ls="", marker="o", ms=4, mfc="#222", mec="white", zorder=6)
        ax.annotate(
            p.name,
            (p.x, p.y),
            fontsize=7.5 if town else 7,
            style="normal" if town else "italic",
            color="#111" if town else "#5a3d1e",
            xytext=(4, 3),
            textcoords="offset points",
            zorder=7,
            bbox={"boxstyle": "round,pad=0.1", "fc": "white", "lw": 0, "alpha": 0.7},
        )


def _lonlat_axis(ax: Any, scenario: Scenario, bounds: tuple[float, float, float, float]) -> None:
    """Axis labels in degrees: longitude along the map's middle row, latitude its middle column."""
    xm, ym = 0.5 * (bounds[0] + bounds[2]), 0.5 * (bounds[1] + bounds[3])

    def lon(v: float, _pos: int) -> str:
        lo, _ = scenario.frame.to_lonlat(v, ym)
        return f"{float(lo):.2f}°E"

    def lat(v: float, _pos: int) -> str:
        _, la = scenario.frame.to_lonlat(xm, v)
        return f"{float(la):.2f}°N"

    ax.xaxis.set_major_formatter(FuncFormatter(lon))
    ax.yaxis.set_major_formatter(FuncFormatter(lat))
    ax.set_xlabel("longitude (along the map's middle)", fontsize=8)
    ax.set_ylabel("latitude (along the map's middle)", fontsize=8)


def _chainage_marks(
    ax: Any, scenario: Scenario, span_km: tuple[float, float] | None = None
) -> None:
    lo, hi = span_km or (0.0, scenario.length_km)
    hi = min(hi, scenario.length_km)
    step = km_ticks(hi - lo, target=6 if span_km else 8)
    marks = np.arange(math.ceil(lo / step) * step, hi + 1e-9, step)
    x, y = scenario.border.point_at(marks * 1000.0)
    ax.plot(x, y, ls="", marker="o", ms=3, mfc="white", mec="black", mew=0.8, zorder=4)
    for k, xi, yi in zip(marks, x, y, strict=True):
        label = f"km {k:g}"
        if span_km:
            lon, lat = scenario.frame.to_lonlat(xi, yi)
            label += f"\n{mgrs_ref(float(lon), float(lat), 3)}"
        ax.annotate(
            label,
            (xi, yi),
            fontsize=6.5,
            xytext=(-4, 2),
            textcoords="offset points",
            ha="right",
            zorder=7,
        )


def _assets(
    ax: Any, scenario: Scenario, within: tuple[float, float, float, float] | None = None
) -> None:
    sensors = [scenario.position_xy(s.position) for s in scenario.spec.sensors]
    units = [scenario.position_xy(u.base) for u in scenario.spec.units]
    if within is not None:
        # A sector map labels its own assets: count only those on the map.
        x0, y0, x1, y1 = within
        shown = [p for p in sensors + units if x0 <= p[0] <= x1 and y0 <= p[1] <= y1]
        if len(shown) <= 30:
            sensors_in = [
                (s, p)
                for s, p in zip(scenario.spec.sensors, sensors, strict=True)
                if x0 <= p[0] <= x1 and y0 <= p[1] <= y1
            ]
            units_in = [
                (u, p)
                for u, p in zip(scenario.spec.units, units, strict=True)
                if x0 <= p[0] <= x1 and y0 <= p[1] <= y1
            ]
            _asset_marks(ax, [p for _, p in sensors_in], [p for _, p in units_in])
            for name, (x, y) in [(s.id, p) for s, p in sensors_in] + [
                (u.id, p) for u, p in units_in
            ]:
                ax.annotate(
                    name, (x, y), fontsize=6, xytext=(4, -8), textcoords="offset points", zorder=7
                )
            return
    _asset_marks(ax, sensors, units)
    if within is not None:
        return
    # Labels help on a short line; on a whole border they would hide the map.
    if len(sensors) + len(units) <= 30:
        labelled = [(s.id, p) for s, p in zip(scenario.spec.sensors, sensors, strict=True)]
        labelled += [(u.id, p) for u, p in zip(scenario.spec.units, units, strict=True)]
        for name, (x, y) in labelled:
            ax.annotate(
                name, (x, y), fontsize=6.5, xytext=(4, -8), textcoords="offset points", zorder=7
            )


def _asset_marks(
    ax: Any, sensors: Sequence[tuple[float, float]], units: Sequence[tuple[float, float]]
) -> None:
    if sensors:
        sx, sy = np.array(sensors).T
        ax.plot(sx, sy, ls="", marker="^", ms=6, mfc="#ffd92f", mec="black", mew=0.6, zorder=6)
    if units:
        ux, uy = np.array(units).T
        ax.plot(ux, uy, ls="", marker="s", ms=6, mfc="#4575b4", mec="white", mew=0.8, zorder=6)


# --- the page ---------------------------------------------------------------------------------


def _fmt_p(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.2f}"


def _p_class(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "p-none"
    if value < 0.3:
        return "p-bad"
    if value < WEAK_BELOW:
        return "p-weak"
    if value < 0.8:
        return "p-fair"
    return "p-good"


def _fmt_delta(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:+.2f}"


def _fmt_num(value: float | None, digits: int = 1) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:,.{digits}f}"


def _fmt_minutes(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "—"
    return f"{seconds / 60:,.1f}"


def environment() -> jinja2.Environment:
    """The template environment: autoescaped, strict about undefined names."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        p=_fmt_p, pclass=_p_class, delta=_fmt_delta, num=_fmt_num, minutes=_fmt_minutes
    )
    return env


def _run_context(
    run: Run, scenario: Scenario, weak_below: float, gazetteer: Gazetteer
) -> dict[str, Any]:
    p = np.array([k.p_interruption for k in run.per_km], dtype=float)
    ok = np.isfinite(p)
    worst = weakest_km(run, 1)
    stretches = [
        stretch_record(st, rank, run, scenario, gazetteer)
        for rank, st in enumerate(ranked_stretches(run, scenario, weak_below), 1)
    ]
    paths = []
    for i, wp in enumerate(run.worst_paths, start=1):
        rec = path_record(wp)
        ll = rec["critical_lonlat"]
        paths.append(
            {
                "path": wp,
                "rank": i,
                "agrees": mc_agrees(wp),
                "sector": scenario.sector_at(wp.start_chainage_km).name,
                "timely": rec["timely_response"],
                "critical_lonlat": tuple(ll) if ll else None,
                "critical_ref": grid_ref(ll[0], ll[1]) if ll else None,
                "critical_time_s": rec["critical_time_s"],
                "time_to_goal_s": rec["time_to_goal_s"],
            }
        )
    return {
        "label": f"{run.mode.value} · {run.light.value}",
        "slug": run_label(run),
        "km": len(run.per_km),
        "worst": worst[0] if worst else None,
        "headline": stretches[0] if stretches else None,
        "cost_km": sum(st["cost_km"] for st in stretches),
        "mean_p": float(p[ok].mean()) if ok.any() else None,
        "km_below": int((p < weak_below).sum()),
        "sectors": sector_stats(run, scenario, weak_below),
        "weakest": weakest_km(run, 10),
        "stretches": stretches,
        "paths": paths,
    }


def left_out(assessment: Assessment) -> list[str]:
    """The mode · light runs not assessed (the report says so rather than stay silent)."""
    done = {(r.mode, r.light) for r in assessment.runs}
    return [f"{m.value} · {li.value}" for m in Mode for li in Light if (m, li) not in done]


def render_report(
    assessment: Assessment,
    scenario: Scenario,
    out_path: str | Path,
    compare: Comparison | None = None,
    weak_below: float = WEAK_BELOW,
    generated: datetime | None = None,
    *,
    changes: Changes | None = None,
    plan: dict[str, Any] | None = None,
) -> Path:
    """Write the report as one self-contained HTML file and return its path.

    `changes` (with `compare`) adds the input differences, why a change bought nothing, and
    the change map."""
    bounds = map_bounds(scenario)
    base = basemap(scenario, bounds)
    gazetteer = Gazetteer(scenario)
    runs = [_run_context(r, scenario, weak_below, gazetteer) for r in assessment.runs]
    maps = [map_chart(r, scenario, base, bounds) for r in assessment.runs]
    # Sector maps for the run that costs the defence most: the one a reader acts on first.
    headline_run = None
    if assessment.runs:
        costs = [r["cost_km"] for r in runs]
        headline_run = assessment.runs[int(np.argmax(costs))]
    sector_maps = (
        [(s, sector_map(headline_run, scenario, s, gazetteer)) for s in scenario.spec.sectors]
        if headline_run is not None
        else []
    )
    spec = scenario.spec
    context = {
        "a": assessment,
        "spec": spec,
        "length_km": scenario.length_km,
        "generated": (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        "weak_below": weak_below,
        "runs": runs,
        "profile": profile_chart(assessment, scenario, weak_below) if assessment.runs else None,
        "maps": list(zip(runs, maps, strict=True)),
        "sector_maps": sector_maps,
        "headline_run": f"{headline_run.mode.value} · {headline_run.light.value}"
        if headline_run
        else None,
        "left_out": left_out(assessment),
        "terrain_note": base.note,
        "barriers": _barrier_rows(scenario),
        "timings": sorted(assessment.timings_s.items(), key=lambda kv: -kv[1]),
        "compare": compare,
        "difference": difference_chart(compare, scenario) if compare and compare.runs else None,
        "changes": changes,
        "plan": plan,
        "change_map": change_map(assessment, scenario, compare, changes)
        if compare and changes
        else None,
    }
    html = environment().get_template("report.html.j2").render(**context)
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


def _barrier_rows(scenario: Scenario) -> Sequence[dict[str, Any]]:
    """Barriers per status for the summary line under the profile: how many, and the km of
    line they hold (the union of their intervals, as `limes scenario show` counts: two
    obstacles on the same km hold it once)."""
    rows = []
    for status, label in STATUS_LABELS.items():
        bs = [b for b in scenario.spec.barriers if b.status is status]
        line_km = covered_km(((b.from_km, b.to_km) for b in bs), 0.0, scenario.length_km)
        rows.append({"status": label, "count": len(bs), "line_km": line_km})
    return rows
