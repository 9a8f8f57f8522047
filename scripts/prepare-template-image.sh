#!/usr/bin/env bash
# Builds the template image people's containers run (USER_TEMPLATE_IMAGE, default
# user-service-template:latest) from user-template/ when it is not on this host yet, so the first
# signup on a fresh machine works. README's start command runs it before `npm start`.
#
# The template's base image (ARG BASE_IMAGE in user-template/Dockerfile) is used when it is on the
# host or can be pulled. When it cannot be pulled (no registry reachable), this says so in one line
# and builds on the offline stand-in instead (scripts/build-standin-images.sh nginx: busybox httpd,
# uid 101, port 8080, the same one the tests use). Production hosts should pull the real base.
#
# USER_TEMPLATE_IMAGE comes from the environment, else from .env, as Spawner itself reads it.
# An image that is already there is never rebuilt: `docker image rm` it to pick up changes.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
ME=$(basename -- "$0")
STANDIN_BASE=local/nginx-unprivileged:alpine
PULL_TIMEOUT=${PULL_TIMEOUT:-60}

# The legacy builder is what this engine offers without buildx (as in build-standin-images.sh).
export DOCKER_BUILDKIT=0

say() { printf '%s: %s\n' "$ME" "$*" >&2; }
die() {
  say "error: $*"
  exit 1
}

# The last USER_TEMPLATE_IMAGE=… line of .env, without surrounding quotes; nothing if absent.
from_dotenv() {
  [[ -f "$ROOT/.env" ]] || return 0
  sed -n 's/^[[:space:]]*USER_TEMPLATE_IMAGE[[:space:]]*=[[:space:]]*//p' "$ROOT/.env" | tail -n 1 | sed "s/^[\"']//; s/[\"'][[:space:]]*$//"
}

IMAGE=${USER_TEMPLATE_IMAGE:-$(from_dotenv)}
IMAGE=${IMAGE:-user-service-template:latest}
BASE=$(sed -n 's/^ARG BASE_IMAGE=//p' "$ROOT/user-template/Dockerfile" | head -n 1)
[[ -n "$BASE" ]] || die "no 'ARG BASE_IMAGE=' default in user-template/Dockerfile"

command -v docker >/dev/null || die "docker CLI not found (scripts/setup-host.sh installs it)"
docker info >/dev/null 2>&1 || die "cannot reach the Docker engine (is dockerd running? scripts/setup-host.sh starts it)"

if docker image inspect "$IMAGE" >/dev/null 2>&1; then
  say "template image $IMAGE is present"
  exit 0
fi

build_args=()
if docker image inspect "$BASE" >/dev/null 2>&1; then
  :
elif pull_error=$(timeout "$PULL_TIMEOUT" docker pull -q "$BASE" 2>&1 >/dev/null); then
  say "pulled $BASE"
else
  reason=$(printf '%s\n' "${pull_error:-timed out after ${PULL_TIMEOUT}s}" | grep -v '^[[:space:]]*$' | tail -n 1)
  say "cannot pull $BASE (${reason:-no answer}); building on the offline stand-in $STANDIN_BASE instead (for trying Spawner out; production pulls the real image)"
  "$ROOT/scripts/build-standin-images.sh" nginx >&2
  build_args=(--build-arg "BASE_IMAGE=$STANDIN_BASE")
  BASE=$STANDIN_BASE
fi

log=$(mktemp "${TMPDIR:-/tmp}/$ME.XXXXXX")
trap 'rm -f -- "$log"' EXIT
if ! docker build "${build_args[@]}" -t "$IMAGE" "$ROOT/user-template" >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  die "docker build of $IMAGE failed"
fi
say "built template image $IMAGE from user-template/ on $BASE"
