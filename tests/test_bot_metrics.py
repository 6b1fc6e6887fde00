"""The Grafana dashboard and the metrics doc name only metrics the bot exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.metrics import Metrics

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"),
           "gauge": ("",)}


def families() -> dict[str, str]:
    """Each diana_ metric the bot exports, by the name a scrape shows, with its type."""
    return {f.name + ((f.name.endswith("_total") and "") or ("_total" if f.type == "counter"
                                                            else "")): f.type
            for f in Metrics().registry.collect() if f.name.startswith("diana_")}


def samples() -> set[str]:
    return {f.name + suffix for f in Metrics().registry.collect()
            if f.name.startswith("diana_") for suffix in SAMPLES[f.type]}


def test_the_dashboard_queries_every_metric_and_no_other():
    dash = json.loads((ROOT / "docs/ops/grafana/diana.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    used = {n for e in exprs for n in re.findall(r"\bdiana_[a-z_]+", e)}
    assert used <= samples()
    assert {re.sub(r"_(bucket|count|sum)$", "", n) for n in used} == set(families())


def test_the_doc_lists_every_metric():
    doc = (ROOT / "docs/ops/metrics.md").read_text()
    assert set(re.findall(r"`(diana_[a-z_]+)`", doc)) == set(families())
