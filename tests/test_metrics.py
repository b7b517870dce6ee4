"""The sample Grafana dashboard only queries metrics Parley exposes."""

from __future__ import annotations

import json
import re

from prometheus_client import REGISTRY

from parley import metrics
from tests.conftest import REPO


def test_the_dashboard_uses_only_exposed_metric_names() -> None:
    dashboard = json.loads((REPO / "deploy" / "grafana-dashboard.json").read_text())
    used = {
        re.sub(r"_(bucket|sum|count|total)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\bparley_[a-z_]+", target["expr"])
    }
    exposed = {family.name for family in REGISTRY.collect() if family.name.startswith("parley_")}
    exposed |= {family.name for family in metrics.job_families({})}
    assert used and used <= exposed, used - exposed
