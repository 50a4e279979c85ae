"""The Prometheus and Grafana set-up of deploy/: `promtool check config` passes, Grafana's
provisioning points where compose.yaml mounts things, the dashboard has unique panel ids,
every PromQL expression parses (`promtool check rules`) and names only metrics our
processes declare, and every SQL panel runs on the real schema as the read-only role
grafana-role.sql makes — which may read nothing else."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import asyncpg
import pytest
import yaml
from metrics_support import declared_names

from gateway.app import Gateway
from gateway.config import parse_config
from ingest.consumer_settings import Counters
from ingest.metrics import IngestMetrics
from scg.localsvc import PostgresCluster
from scg.localsvc.process import run_as
from web.metrics import ApiMetrics

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
GRAFANA = DEPLOY / "grafana"
COMPOSE: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
DASHBOARD: dict[str, Any] = json.loads((GRAFANA / "dashboards" / "scg.json").read_text())
#: Grafana's own variables, replaced by values PromQL accepts for the syntax check.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h",
                     "$community": "demo"}
GATEWAY_CONFIG = """\
community: demo
gateway: demo-gw1
uplink: {host: 127.0.0.1, port: 1883}
spool: {path: spool.sqlite}
drivers: {mqtt: {host: 127.0.0.1, port: 1883}}
devices: [{id: light-001, driver: mqtt, profile: street_light, address: light-001,
           period: 10s}]
"""


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.skip("promtool is not installed (Debian package `prometheus`; "
                    "scripts/system-deps.sh installs it)")
    return found


def panels() -> list[dict[str, Any]]:
    found = []
    for panel in DASHBOARD["panels"]:
        found.append(panel)
        found += panel.get("panels", [])  # a collapsed row holds its panels
    return found


def expressions() -> list[str]:
    return [t["expr"] for p in panels() for t in p.get("targets", []) if "expr" in t]


def queries() -> list[str]:
    sql = [t["rawSql"] for p in panels() for t in p.get("targets", []) if "rawSql" in t]
    return sql + [v["query"] for v in DASHBOARD["templating"]["list"]
                  if v["datasource"]["uid"] == "scg-postgres"]


def mount_target(service: str, source: str) -> str:
    for entry in COMPOSE["services"][service]["volumes"]:
        src, target, *_ = entry.split(":")
        if src == source:
            return str(target)
    raise AssertionError(f"{service} does not mount {source}")


def test_prometheus_config_and_the_gateway_targets_example_pass_promtool(
        tmp_path: Path) -> None:
    tool = promtool()
    config = DEPLOY / "prometheus" / "prometheus.yml"
    checked = subprocess.run([tool, "check", "config", str(config)], capture_output=True,
                             text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # The example list of gateways, where Prometheus would find a copy of it.
    (tmp_path / "gateways").mkdir()
    shutil.copy(DEPLOY / "prometheus" / "gateways" / "example.yml.sample",
                tmp_path / "gateways" / "demo.yml")
    local = tmp_path / "prometheus.yml"
    local.write_text(config.read_text().replace("/etc/prometheus/gateways",
                                                str(tmp_path / "gateways")))
    checked = subprocess.run([tool, "check", "config", str(local)], capture_output=True,
                             text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "WARNING" not in checked.stdout + checked.stderr


def test_grafana_provisioning_matches_the_compose_mounts_and_the_dashboard() -> None:
    assert mount_target("grafana", "./grafana/provisioning") == "/etc/grafana/provisioning"
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "scg.yaml")
                               .read_text())["providers"]
    assert [p["options"]["path"] for p in providers] == [
        mount_target("grafana", "./grafana/dashboards")]
    sources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "scg.yaml")
                             .read_text())["datasources"]
    provisioned = {s["uid"]: s for s in sources}
    used = {json.dumps(t["datasource"], sort_keys=True) for p in panels()
            for t in p.get("targets", [])}
    used |= {json.dumps(p["datasource"], sort_keys=True) for p in panels()
             if "datasource" in p}
    for ref in map(json.loads, used):
        assert ref["uid"] in provisioned, ref
        assert ref["type"] == provisioned[ref["uid"]]["type"], ref
    prometheus, postgres = provisioned["scg-prometheus"], provisioned["scg-postgres"]
    assert prometheus["url"] == "http://prometheus:9090"
    assert "prometheus" in COMPOSE["services"]
    assert postgres["url"] == "postgres:5432"
    assert postgres["jsonData"]["database"] == \
        COMPOSE["services"]["postgres"]["environment"]["POSTGRES_DB"]
    variable = postgres["secureJsonData"]["password"].lstrip("$")
    assert variable in COMPOSE["services"]["grafana"]["environment"]
    assert mount_target("grafana-role", "./grafana/grafana-role.sql") == \
        "/sql/grafana-role.sql"


def test_the_dashboard_has_unique_panel_ids_each_with_a_place() -> None:
    ids = [p["id"] for p in panels()]
    assert len(ids) == len(set(ids)) and len(ids) >= 20
    for panel in panels():
        grid = panel["gridPos"]
        assert 0 <= grid["x"] < 24 and 0 < grid["w"] <= 24 - grid["x"], panel["title"]
        if panel["type"] != "row":
            assert panel["targets"] and panel["title"] and panel["description"], panel["id"]
    assert DASHBOARD["uid"] == "scg-overview"


def exported_names(tmp_path: Path) -> set[str]:
    """The metric names the API, ingest and the gateway declare, from their registries."""
    names = declared_names(ApiMetrics().registry)
    consumer = SimpleNamespace(counters=Counters(), broker_connected=True,
                               database_writing=True)
    names |= declared_names(IngestMetrics(consumer).registry)
    gateway = Gateway(parse_config(GATEWAY_CONFIG, tmp_path / "gateway.yaml"))
    try:
        names |= declared_names(gateway.metrics.registry)
    finally:
        gateway.spool.close()
    return names


def test_every_expression_names_only_metrics_our_processes_export(tmp_path: Path) -> None:
    exported = exported_names(tmp_path)
    assert {"scg_gateway_link_cycle_overruns_total", "scg_ingest_batch_write_seconds_bucket",
            "scg_api_request_seconds_count", "process_cpu_seconds_total"} <= exported
    named_anything = []
    for expr in expressions():
        names = set(re.findall(r"\b((?:scg|process)_[a-z0-9_]+)\b", expr))
        assert names <= exported, f"{expr}: {sorted(names - exported)} are not exported"
        named_anything.append(bool(names))
    assert all(named_anything)
    # Every family of ours is on the dashboard somewhere, the link budgets included.
    shown = {n for e in expressions() for n in re.findall(r"\b(scg_[a-z0-9_]+)\b", e)}
    families = {re.sub(r"_(total|bucket|count|sum)$", "", n) for n in exported
                if n.startswith("scg_")}
    missing = {f for f in families if not any(s.startswith(f) for s in shown)}
    assert missing == set()


def test_every_expression_parses(tmp_path: Path) -> None:
    tool = promtool()
    rules = []
    for n, expr in enumerate(expressions()):
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        rules.append({"record": f"scg:dashboard:{n}", "expr": expr})
    path = tmp_path / "dashboard-rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    checked = subprocess.run([tool, "check", "rules", str(path)], capture_output=True,
                             text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.integration
async def test_the_sql_panels_run_as_grafanas_role_which_reads_nothing_else(
        loaded: str, pg_cluster: PostgresCluster) -> None:
    password = "a-grafana-password"
    for _ in range(2):  # safe to run again
        run_as([str(pg_cluster.bindir / "psql"), "-X", "-q", "-d", loaded, "-v",
                f"grafana_password={password}", "-f", str(GRAFANA / "grafana-role.sql")])
    database = loaded.rsplit("/", 1)[1]
    conn = await asyncpg.connect(host="127.0.0.1", port=pg_cluster.port, database=database,
                                 user="scg_grafana", password=password)
    try:
        for query in queries():
            await conn.fetch(query.replace("$community", "'demo'"))
        assert [r["id"] for r in await conn.fetch(queries()[-1])] == ["demo"]
        for table in ("users", "residents", "dead_letters", "readings", "operation_log"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await conn.fetch(f"SELECT * FROM {table} LIMIT 1")
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await conn.execute("CREATE TEMP TABLE scratch (x int)")
    finally:
        await conn.close()
