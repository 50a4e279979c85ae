#!/usr/bin/env bash
# Installs the Debian packages scg needs when they are missing: mosquitto (the
# MQTT broker used by the demo and the integration tests), socat, a PostgreSQL server, and
# chromium, poppler-utils and a CJK font for the browser test of the acceptance report, and
# promtool for the metrics tests.
set -euo pipefail

missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
# socat links two pseudo-terminals: the RS-485 (Modbus RTU, DL/T 645) tests run over them.
command -v socat >/dev/null 2>&1 || missing+=(socat)
# chromium renders the HTML acceptance report in the browser test (screenshot, print to
# PDF); pdfinfo (poppler-utils) counts the printed pages; a CJK font shows the Chinese.
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdfinfo >/dev/null 2>&1 || missing+=(poppler-utils)
if ! command -v fc-list >/dev/null 2>&1 || [ -z "$(fc-list :lang=zh family 2>/dev/null)" ]; then
    missing+=(fonts-noto-cjk)
fi
# promtool (`promtool check metrics` on every /metrics; `check config` / `check rules` on
# deploy/prometheus) comes with Debian's Prometheus server package (about 19 MB). On a host
# running systemd that package also enables a Prometheus on :9090;
# `systemctl disable --now prometheus` stops it if you do not want it.
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
    missing+=(postgresql)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "scg: installing Debian packages: ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
