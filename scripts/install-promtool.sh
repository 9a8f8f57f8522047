#!/usr/bin/env bash
# Installs promtool (the metrics test runs `promtool check metrics` on a real scrape) from Debian's
# `prometheus` package without installing the package itself: the package would also install and
# try to start a Prometheus server, which the tests do not want on the machine. promtool is one
# static binary, so it is taken out of the downloaded .deb. Idempotent; run as root.
set -euo pipefail

if command -v promtool >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-promtool: run as root (it writes /usr/local/bin/promtool)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download prometheus >/dev/null; }
dpkg-deb -x prometheus_*.deb root
install -m 0755 root/usr/bin/promtool /usr/local/bin/promtool
printf 'install-promtool: %s\n' "$(promtool --version 2>&1 | head -n 1)" >&2
