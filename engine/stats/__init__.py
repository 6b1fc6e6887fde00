"""Player statistics (`diana stats`): pure aggregation in `report`, read-only SQL in `read`,
PNG charts in `charts` (matplotlib, imported only when charts are drawn)."""

from engine.stats.report import (
    AchievementRate,
    ActionEvent,
    ChoiceCount,
    ChoiceSplit,
    DropOff,
    EndingCount,
    FunnelStep,
    PlayerRow,
    Rows,
    SimEnding,
    Simulation,
    StatsReport,
    build,
    story_order,
    with_simulation,
)

__all__ = [
    "AchievementRate",
    "ActionEvent",
    "ChoiceCount",
    "ChoiceSplit",
    "DropOff",
    "EndingCount",
    "FunnelStep",
    "PlayerRow",
    "Rows",
    "SimEnding",
    "Simulation",
    "StatsReport",
    "build",
    "story_order",
    "with_simulation",
]
