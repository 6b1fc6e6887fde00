"""PNG charts of a stats report, drawn with matplotlib's Agg (file-only) renderer.

No pyplot: each chart is its own `Figure` on an Agg canvas, so nothing global is touched
and no display is needed (a server, CI). matplotlib is imported here only, so the rest of
Diana does not pay for it.
"""

from __future__ import annotations

from pathlib import Path

from engine.stats.report import StatsReport

CHARTS = ("funnel.png", "endings.png", "achievements.png")
_DPI = 100
_METADATA = {"Software": None}  # no version string: the same report gives the same bytes


def _figure(bars: int):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, max(2.5, 0.8 + 0.32 * bars)), dpi=_DPI)
    FigureCanvasAgg(fig)
    return fig


def _hbar(path: Path, title: str, labels: list[str], values: list[float], xlabel: str,
          *, percent: bool) -> None:
    fig = _figure(len(labels))
    ax = fig.add_subplot()
    ys = list(range(len(labels)))
    ax.barh(ys, values, color="#4c72b0")
    ax.set_yticks(ys, labels)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    top = max(values, default=0)
    ax.set_xlim(0, 100 if percent else max(1, top) * 1.15)
    ax.set_ylim(max(len(labels), 1) - 0.5, -0.5)  # the first item on top, no padding
    if not percent:
        from matplotlib.ticker import MaxNLocator

        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for y, v in zip(ys, values, strict=True):
        ax.text(v, y, f" {v:.0f}%" if percent else f" {v:g}", va="center", fontsize=8)
    if not labels:
        ax.text(0.5, 0.5, "nothing to show", ha="center", va="center",
                transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(path, format="png", metadata=_METADATA)


def _endings(path: Path, report: StatsReport) -> None:
    labels = [f"{e.ending} ({e.kind})" for e in report.endings]
    fig = _figure(len(labels))
    ax = fig.add_subplot()
    ys = list(range(len(labels)))
    players = [e.share * 100 for e in report.endings]
    if report.simulation is not None:
        h = 0.4
        sim = [s.share * 100 for s in report.simulation.endings]
        ax.barh([y - h / 2 for y in ys], players, h, label="players (first ending)",
                color="#4c72b0")
        ax.barh([y + h / 2 for y in ys], sim, h,
                label=f"simulated ({report.simulation.runs} random runs)", color="#dd8452")
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.barh(ys, players, color="#4c72b0")
    ax.set_yticks(ys, labels)
    ax.set_ylim(max(len(labels), 1) - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_xlabel(f"% of those who reached an ending ({report.finished} players)")
    ax.set_title("Ending distribution")
    if not labels:
        ax.text(0.5, 0.5, "the story has no endings", ha="center", va="center",
                transform=ax.transAxes)
    fig.tight_layout()
    fig.savefig(path, format="png", metadata=_METADATA)


def write_charts(report: StatsReport, out: Path) -> list[Path]:
    """Write funnel.png, endings.png and achievements.png into `out` (created if needed).
    Raises OSError if the directory or a file cannot be written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / name for name in CHARTS]
    _hbar(paths[0], f"Funnel: players who reached each fragment ({report.players} players)",
          [s.fragment for s in report.funnel], [s.players for s in report.funnel], "players",
          percent=False)
    _endings(paths[1], report)
    _hbar(paths[2], "Achievement unlock rates", [a.achievement for a in report.achievements],
          [a.rate * 100 for a in report.achievements], f"% of {report.players} players",
          percent=True)
    return paths
