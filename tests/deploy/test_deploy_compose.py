"""deploy/compose.yaml checked without a Docker engine: it parses, every service has an
image or a build whose files exist, every volume, network and secret it names is declared,
every file it mounts or reads is in the repository (or is one the README has the operator
make), ports parse and do not collide, every secret it interpolates is documented in
compose.env.example, and every `scg` command it runs is one the `scg` parser accepts."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from scg.cli import build_parser

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
COMPOSE_TEXT = (DEPLOY / "compose.yaml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
#: Bind-mount sources the operator makes, and the README step that makes them.
MADE_BY_OPERATOR = {"./broker": "scg broker config --out broker"}
SCG_IMAGE = "scg:local"


def mounts(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(source, target) of each volume entry (short syntax, an optional :ro dropped)."""
    out = []
    for entry in service.get("volumes", []):
        source, target, *_ = entry.split(":")
        out.append((source, target))
    return out


def is_bind(source: str) -> bool:
    return source.startswith((".", "/"))


def test_the_stack_has_the_central_services() -> None:
    assert set(SERVICES) == {"mosquitto", "postgres", "scg-migrate", "grafana-role", "ingest",
                             "api", "evaluator", "prometheus", "grafana"}
    assert SERVICES["postgres"]["image"].startswith("timescale/timescaledb:2.")
    assert SERVICES["postgres"]["image"].endswith("-pg15")


def test_every_service_has_an_image_or_a_build_whose_files_exist() -> None:
    for name, service in SERVICES.items():
        assert "image" in service or "build" in service, name
        build = service.get("build")
        if build is not None:
            context = (DEPLOY / build["context"]).resolve()
            assert context == REPO, name
            assert (context / build["dockerfile"]).is_file(), name


def test_volumes_networks_and_secrets_named_are_declared_and_used() -> None:
    declared = {kind: set(COMPOSE.get(kind) or {}) for kind in ("volumes", "networks",
                                                                  "secrets")}
    used: dict[str, set[str]] = {kind: set() for kind in declared}
    for name, service in SERVICES.items():
        for source, _ in mounts(service):
            if not is_bind(source):
                assert source in declared["volumes"], f"{name}: volume {source}"
                used["volumes"].add(source)
        for network in service.get("networks", []):
            assert network in declared["networks"], f"{name}: network {network}"
            used["networks"].add(network)
        for secret in service.get("secrets", []):
            assert secret in declared["secrets"], f"{name}: secret {secret}"
            used["secrets"].add(secret)
    assert used == declared  # nothing declared and forgotten


def test_every_file_mounted_or_read_is_in_the_repository_or_made_by_the_operator() -> None:
    readme = (DEPLOY / "README.md").read_text()
    for name, service in SERVICES.items():
        for source, target in mounts(service):
            if not is_bind(source):
                continue
            assert target.startswith("/"), f"{name}: {target}"
            if source in MADE_BY_OPERATOR:
                assert MADE_BY_OPERATOR[source] in readme, source
                continue
            assert (DEPLOY / source).exists(), f"{name} mounts {source}, which is missing"
        for env_file in service.get("env_file", []):
            assert (DEPLOY / env_file).is_file(), f"{name}: env_file {env_file}"


def test_published_ports_parse_and_do_not_collide() -> None:
    taken: dict[tuple[str, int], str] = {}
    for name, service in SERVICES.items():
        for entry in service.get("ports", []):
            match = re.fullmatch(r"(?:(\d+\.\d+\.\d+\.\d+):)?(\d+):(\d+)", entry)
            assert match, f"{name}: port {entry!r} is not [IP:]HOST:CONTAINER"
            ip, host = match.group(1) or "0.0.0.0", int(match.group(2))
            assert 0 < host < 65536 and 0 < int(match.group(3)) < 65536, entry
            assert (ip, host) not in taken, f"{name} and {taken[(ip, host)]} publish {entry}"
            taken[(ip, host)] = name
    # Prometheus has no sign-in of its own: this host only.
    assert SERVICES["prometheus"]["ports"] == ["127.0.0.1:9090:9090"]


def test_dependencies_name_services_and_the_schema_is_migrated_first() -> None:
    for name, service in SERVICES.items():
        for other in service.get("depends_on", {}):
            assert other in SERVICES, f"{name} depends on unknown {other}"
    for name in ("ingest", "api", "evaluator", "grafana-role"):
        assert SERVICES[name]["depends_on"]["scg-migrate"] == {
            "condition": "service_completed_successfully"}, name


def test_every_interpolated_variable_is_a_documented_secret() -> None:
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)(?::\?[^}]*)?\}", COMPOSE_TEXT))
    example = (DEPLOY / "compose.env.example").read_text()
    documented = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=CHANGE-ME$", example, re.M))
    assert used == documented
    bare = re.findall(r"(?<!\$)\$\{([A-Z_][A-Z0-9_]*)\}", COMPOSE_TEXT)
    assert bare == [], "a secret without :? would start the stack with an empty password"


@pytest.mark.parametrize("name", [n for n, s in SERVICES.items() if s.get("image") == SCG_IMAGE])
def test_scg_commands_are_ones_the_scg_parser_accepts(name: str) -> None:
    command = SERVICES[name]["command"]
    assert command[0] == "scg"
    args = build_parser().parse_args(command[1:])
    assert callable(args.func)


def test_the_dockerfile_copies_every_package_the_distribution_has() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    copied = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ")]
    for source in copied:
        assert (REPO / source).exists(), source
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    packages = {p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]
                ["include"]}
    assert packages <= set(copied)
    assert "requirements.lock" in copied and "--require-hashes" in dockerfile


def test_prometheus_scrapes_the_ports_the_services_listen_on() -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {job["job_name"]: [t for sc in job.get("static_configs", [])
                                 for t in sc["targets"]]
               for job in config["scrape_configs"]}
    api = SERVICES["api"]["command"]
    ingest = SERVICES["ingest"]["command"]
    assert targets["scg-api"] == [f"api:{api[api.index('--port') + 1]}"]
    assert targets["scg-ingest"] == [f"ingest:{ingest[ingest.index('--metrics-port') + 1]}"]
    assert ingest[ingest.index("--metrics-host") + 1] == "0.0.0.0"
    assert api[api.index("--host") + 1] == "0.0.0.0"
    gateway_files = config["scrape_configs"][2]["file_sd_configs"][0]["files"]
    mounted = dict((t, s) for s, t in mounts(SERVICES["prometheus"]))
    assert gateway_files == ["/etc/prometheus/gateways/*.yml"]
    assert mounted["/etc/prometheus/gateways"] == "./prometheus/gateways"
    assert mounted["/etc/prometheus/prometheus.yml"] == "./prometheus/prometheus.yml"
