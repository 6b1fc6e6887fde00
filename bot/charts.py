"""The /stats funnel as a PNG, drawn with matplotlib's Agg (file-only) renderer.

No pyplot: the chart is its own `Figure` on an Agg canvas (nothing global, no display).
matplotlib is imported only when a chart is drawn, and the drawing runs off the event loop
(`asyncio.to_thread`): the bot does not pay for it at start-up or while it draws.
"""

from __future__ import annotations

import io

_METADATA = {"Software": None}  # no version string: the same numbers give the same bytes


def funnel_png(title: str, steps: list[tuple[str, int]]) -> bytes:
    """A horizontal bar per step (first on top), its count at the bar's end."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    labels = [label for label, _ in steps]
    values = [n for _, n in steps]
    fig = Figure(figsize=(8, max(2.5, 0.8 + 0.32 * len(steps))), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ys = list(range(len(steps)))
    ax.barh(ys, values, color="#4c72b0")
    ax.set_yticks(ys, labels)
    ax.set_ylim(max(len(steps), 1) - 0.5, -0.5)
    ax.set_xlim(0, max(1, max(values, default=0)) * 1.15)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("players")
    ax.set_title(title)
    for y, v in zip(ys, values, strict=True):
        ax.text(v, y, f" {v}", va="center", fontsize=8)
    if not steps:
        ax.text(0.5, 0.5, "nothing to show", ha="center", va="center", transform=ax.transAxes)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", metadata=_METADATA)
    return out.getvalue()
