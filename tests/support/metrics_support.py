"""Reading a /metrics answer in tests: `promtool check metrics` on it (Debian's
`prometheus` package; skipped with a reason where it is missing) and its samples by name
and labels, parsed with prometheus-client's own parser."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def promtool_check(text: str, what: str) -> None:
    """Fail with promtool's complaints unless `promtool check metrics` accepts `text`."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package `prometheus`; "
                    "scripts/system-deps.sh installs it)")
    proc = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=30, check=False)
    assert proc.returncode == 0, f"promtool check metrics on {what}:\n{proc.stdout}{proc.stderr}"


def samples(text: str) -> Samples:
    """Every sample of the exposition `text`: (name, labels) -> value."""
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: Samples, name: str, **labels: str) -> float | None:
    """The sample `name` with exactly `labels`, or None."""
    return found.get((name, frozenset(labels.items())))


def total(found: Samples, name: str, **labels: str) -> float:
    """The sum of the samples `name` whose labels include `labels` (0 when there is none)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= ls)


def names(text: str) -> set[str]:
    """The metric family names of `text`, as a PromQL expression names them (a counter
    `x_total`, a histogram's `x_bucket` / `x_sum` / `x_count` samples)."""
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


def declared_names(registry: Collector) -> set[str]:
    """The sample names a registry's metrics give PromQL, from their declarations (no
    sample needed): a counter `x` is `x_total`, a histogram `h` is `h_bucket`, `h_count`
    and `h_sum`, a gauge is its name."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"),
                "summary": ("_count", "_sum", ""), "gauge": ("",), "info": ("_info",),
                "untyped": ("",)}
    return {metric.name + suffix for metric in registry.collect()
            for suffix in suffixes.get(metric.type, ("",))}
