"""etc/: the Grafana dashboard asks only for series hva serves, filtered by
the variables it defines; the Prometheus example parses and keeps the
guests' instance label."""

import json
import pathlib
import re

import yaml

from arame.agents.hva import prometheus

ETC = pathlib.Path(__file__).resolve().parents[4] / "etc"


def served() -> set[str]:
    out = set()
    for name, _text, kind, _key, _factor in prometheus.SERIES:
        counter = kind is prometheus.CounterMetricFamily
        out.add(f"{name}_total" if counter else name)
    return out


def test_the_dashboard_reads_what_hva_serves():
    dash = json.loads((ETC / "grafana" / "arame-instances.json").read_text())
    names = {v["name"] for v in dash["templating"]["list"]}
    assert {"datasource", "account", "unit", "instance"} <= names
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    assert {p["title"] for p in dash["panels"]} == {
        "CPU",
        "Memory used",
        "Disk",
        "Network",
    }
    for expr in exprs:
        used = set(re.findall(r"arame_guest_\w+", expr))
        assert used and used <= served(), expr
        for selector in re.findall(r"arame_guest_\w+\{([^}]*)\}", expr):
            assert selector == (
                'account=~"$account",unit=~"$unit",instance=~"$instance"'
            ), expr
        assert expr.count("(") == expr.count(")"), expr


def test_the_scrape_example():
    conf = yaml.safe_load((ETC / "prometheus" / "arame-hva.yml").read_text())
    jobs = {j["job_name"]: j for j in conf["scrape_configs"]}
    assert jobs["arame-hva"]["honor_labels"] is True
    assert jobs["arame-hva"]["static_configs"][0]["targets"]
