#!/usr/bin/env bash
# Closes the host to people's containers: run once as root on the Docker host (and again after a
# reboot, e.g. from a systemd unit; `--remove` takes the rules away again).
#
#   sudo bash scripts/isolate-host.sh web            # the network named by TRAEFIK_NETWORK
#   sudo bash scripts/isolate-host.sh --remove web
#
# Docker's isolation (the network's enable_icc=false, which Spawner insists on) stops people's
# containers from reaching each other. It does not stop them from opening connections to the host
# itself through their network's gateway address: to anything the host listens on at 0.0.0.0
# (sshd, a database, ports other containers publish through docker-proxy). These two rules drop
# every connection a container on that network starts towards the host, and every published port
# it is forwarded to. Answers to connections the host starts (Traefik and Spawner reaching the
# containers) are not new connections and pass.
set -euo pipefail

remove=false
if [[ "${1:-}" == "--remove" ]]; then
  remove=true
  shift
fi
network="${1:?usage: isolate-host.sh [--remove] <docker network>}"
command -v iptables >/dev/null || { echo "isolate-host: iptables is not installed" >&2; exit 1; }

tag="spawner-isolate:$network"

# Idempotent: first take away this network's rules from an earlier run (iptables -S prints the
# comment quoted; the rule is deleted by its position, so nothing in it is parsed again).
for chain in INPUT DOCKER-USER; do
  while number="$(iptables -L "$chain" --line-numbers -n 2>/dev/null | grep -F -- "/* $tag */" | head -n 1 | cut -d' ' -f1)" && [[ -n "$number" ]]; do
    iptables -D "$chain" "$number"
  done
done
if $remove; then
  echo "isolate-host: removed the rules for $network"
  exit 0
fi

# Docker names a network's bridge br-<first 12 characters of its id> unless the network sets its own.
info="$(docker network inspect -f '{{.Id}} {{with index .Options "com.docker.network.bridge.name"}}{{.}}{{end}}' "$network" 2>/dev/null)" || {
  echo "isolate-host: no Docker network named $network" >&2
  exit 1
}
read -r id own_name <<<"$info"
bridge="${own_name:-br-${id:0:12}}"

iptables -I INPUT -i "$bridge" -m conntrack --ctstate NEW -m comment --comment "$tag" -j DROP
# DOCKER-USER exists once Docker has started; it runs before Docker's own forwarding rules.
iptables -N DOCKER-USER 2>/dev/null || true
iptables -I DOCKER-USER -i "$bridge" -m conntrack --ctstate DNAT -m comment --comment "$tag" -j DROP
echo "isolate-host: containers on $network ($bridge) can no longer open connections to this host or its published ports"
