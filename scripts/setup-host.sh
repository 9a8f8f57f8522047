#!/usr/bin/env bash
# Installs and starts what Spawner's tests need on a fresh Debian machine, as root:
# Docker's engine (Debian's docker.io), compose, busybox-static for the test images, debootstrap
# for the offline stand-in base images, and Chromium for the browser test. Idempotent.
set -euo pipefail

log() { printf 'setup-host: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-host: run as root (it installs Debian packages and starts dockerd)" >&2
  exit 1
fi

packages=(docker.io docker-compose busybox-static debootstrap chromium iproute2 ca-certificates)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The engine also listens on loopback TCP so the tests can prove DOCKER_HOST=tcp://… works.
# The tests create many small networks at once; the default pools run out after ~30, so networks
# come from a pool of 256 /24s instead.
if ! docker info >/dev/null 2>&1; then
  log "starting dockerd"
  mkdir -p /var/log
  nohup dockerd -H unix:///var/run/docker.sock -H tcp://127.0.0.1:2375 \
    --default-address-pool base=10.200.0.0/16,size=24 >/var/log/dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  if ! docker info >/dev/null 2>&1; then
    echo "setup-host: dockerd did not start; last lines of /var/log/dockerd.log:" >&2
    tail -n 20 /var/log/dockerd.log >&2
    exit 1
  fi
fi
log "docker $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
