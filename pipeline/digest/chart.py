"""The digest's chart: 30 days of theme volumes from `theme_trends`, spike days marked, drawn for a 640 px
wide email column (rendered at twice that for sharp screens)."""

from __future__ import annotations

import io
from datetime import datetime, time, timedelta

import matplotlib

matplotlib.use("Agg")  # no display, no GUI toolkit: a server process

import matplotlib.dates as mdates  # noqa: E402 - after the backend is chosen
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from pipeline.classify.themes import Theme  # noqa: E402
from pipeline.digest.collect import CHART_DAYS, Digest  # noqa: E402

WIDTH_PX, HEIGHT_PX, DPI = 640, 340, 200


def render_chart(digest: Digest, themes: tuple[Theme, ...]) -> bytes:
    """PNG bytes; never fails on an empty series (it says so on the chart)."""
    days = [digest.day - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    counts = {(d, t): n for d, t, n, _ in digest.series}
    spikes = {(d, t) for d, t, _, s in digest.series if s}

    fig = Figure(figsize=(WIDTH_PX / 100, HEIGHT_PX / 100), dpi=100)
    ax = fig.add_subplot()
    core = [t for t in themes if t.core]
    other = [t for t in themes if not t.core]
    styles = [(t, digest.colours[t.id], 2.4, 3) for t in core] + [(t, digest.colours[t.id], 1.1, 2) for t in other]
    for theme, colour, width, z in reversed(styles):  # core lines drawn last, on top
        values = [counts.get((d, theme.id), 0) for d in days]
        ax.plot(days, values, color=colour, linewidth=width, zorder=z, label=theme.name)
        marked = [(d, v) for d, v in zip(days, values, strict=True) if (d, theme.id) in spikes]
        if marked:
            ax.scatter([d for d, _ in marked], [v for _, v in marked], s=60 if theme.core else 36, color=colour,
                       edgecolor="white", linewidth=1.2, zorder=z + 5)
        if marked and theme.core:  # name the peak spike of the core themes only: seven labels would collide
            peak_day, peak = max(marked, key=lambda m: (m[1], m[0]))
            near_end, near_start = (days[-1] - peak_day).days < 6, (peak_day - days[0]).days < 4
            align = "right" if near_end else "left" if near_start else "center"
            ax.annotate(f"{theme.name} spike", (peak_day, peak), xytext=({"right": -8, "left": 4}.get(align, 0), 8),
                        textcoords="offset points", ha=align, fontsize=8.5,
                        fontweight="bold", color=colour, zorder=10, annotation_clip=False)
    today = datetime.combine(digest.day, time())  # date arithmetic would drop the hours
    ax.axvspan(today - timedelta(hours=12), today + timedelta(hours=12), color="#eef0f3", zorder=0)
    top = max(counts.values(), default=0)
    if top == 0:
        ax.text(0.5, 0.5, "no articles in these 30 days", transform=ax.transAxes, ha="center", va="center",
                color="#666666", fontsize=10)
    ax.set_ylim(0, max(4, top * 1.25))
    ax.set_xlim(datetime.combine(days[0], time()) - timedelta(hours=12), today + timedelta(hours=20))
    ax.xaxis.set_major_locator(mdates.DayLocator(interval=7))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.tick_params(labelsize=8.5, colors="#444444", length=0)
    ax.grid(axis="y", color="#e5e7eb", linewidth=0.8)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#bbbbbb")
    ax.set_title(f"Articles per theme and day, last {CHART_DAYS} days (UTC)", fontsize=9.5,
                 loc="left", color="#222222")
    handles, labels = ax.get_legend_handles_labels()
    order = [labels.index(t.name) for t in themes]  # legend in taxonomy order, core first
    spike_handle = Line2D([], [], linestyle="none", marker="o", markersize=7, color="#555555",
                          markeredgecolor="white")
    fig.legend([handles[i] for i in order] + [spike_handle], [labels[i] for i in order] + ["spike day"],
               loc="lower center", ncol=4,
               fontsize=8, frameon=False, handlelength=1.6, columnspacing=1.2)
    fig.subplots_adjust(left=0.06, right=0.985, top=0.9, bottom=0.24)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()
