#!/usr/bin/env bash
# Builds local stand-ins for the upstream base images Spawner uses, on a machine
# that can reach NO container registry (nothing is ever pulled):
#
#   local/debian:bookworm              debootstrap (minbase) + docker import
#   local/node:20-bookworm-slim        stand-in for node:20-bookworm-slim: the host's
#                                      Node 20 + npm + headers on local/debian:bookworm
#   local/nginx-unprivileged:alpine    stand-in for nginxinc/nginx-unprivileged:alpine:
#                                      static busybox httpd, uid 101, port 8080
#
# These images are for tests and offline development only; production builds use
# the upstream images.
#
# Usage: scripts/build-standin-images.sh [debian|node|nginx ...]   (default: all)
#   FORCE=1           rebuild images that already exist
#   DEBIAN_MIRROR=URL override the Debian mirror (default: from /etc/apt/sources.list.d)
#
# Needs: root (debootstrap), a running Docker engine, debootstrap, busybox-static,
# and Node 20 on the host (/usr/bin/node, /usr/lib/node_modules/npm, /usr/include/node).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
STANDIN_DIR="$SCRIPT_DIR/standin"
ME=$(basename -- "$0")

DEBIAN_IMAGE=local/debian:bookworm
NODE_IMAGE=local/node:20-bookworm-slim
NGINX_IMAGE=local/nginx-unprivileged:alpine

HOST_NODE=/usr/bin/node
HOST_NODE_MODULES=/usr/lib/node_modules
HOST_NODE_HEADERS=/usr/include/node
HOST_BUSYBOX=/bin/busybox

# The legacy builder is what this engine offers without buildx; pin it so an
# inherited DOCKER_BUILDKIT=1 does not make the CLI look for a missing plugin.
export DOCKER_BUILDKIT=0

WORK=""
LOG=""
STALE=() # image ids that FORCE=1 left untagged

die() {
  # One readable line on stderr; the full log (if any) is kept for inspection.
  local msg="$ME: error: $*"
  if [[ -n "$LOG" && -s "$LOG" ]]; then
    local keep
    keep="${TMPDIR:-/tmp}/$ME.$(date +%s).log"
    cp -- "$LOG" "$keep" 2>/dev/null || keep="$LOG"
    local last
    last=$(grep -v '^[[:space:]]*$' "$LOG" | grep -v -i 'deprecated\|buildx\|install the buildx' | tail -n 1 || true)
    msg="$msg: ${last:-no output} (full log: $keep)"
  fi
  printf '%s\n' "$msg" >&2
  exit 1
}

unmount_under() { # debootstrap mounts /proc and /sys in its target; never tar or delete through them
  local m
  while read -r m; do
    umount -l -- "$m" 2>/dev/null || true
  done < <(awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
}

remove_workdir() {
  if [[ -n "$WORK" && -d "$WORK" ]]; then
    unmount_under "$WORK"
    rm -rf --one-file-system -- "$WORK" 2>/dev/null || true
  fi
  WORK=""
  LOG=""
}

cleanup() {
  local rc=$?
  remove_workdir
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

image_size() {
  docker image inspect --format '{{.Size}}' "$1" 2>/dev/null |
    awk '{ printf "%.1f MB", $1 / 1000 / 1000 }'
}

new_workdir() {
  WORK=$(mktemp -d "${TMPDIR:-/tmp}/spawner-standin.XXXXXX") || die "cannot create a temporary directory"
  LOG="$WORK/build.log"
  : >"$LOG"
}

# First Debian mirror for "bookworm" in the host's apt sources (deb822 *.sources
# or one-line *.list). Disabled files (other extensions) are ignored.
detect_mirror() {
  if [[ -n "${DEBIAN_MIRROR:-}" ]]; then
    printf '%s\n' "$DEBIAN_MIRROR"
    return
  fi
  local f uri
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    uri=$(awk 'BEGIN { RS = ""; FS = "\n" }
      {
        uris = ""; suites = ""; types = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          line = $i
          if (line ~ /^[ \t]*#/) continue
          if (match(line, /^URIs:[ \t]*/)) uris = substr(line, RLENGTH + 1)
          else if (match(line, /^Suites:[ \t]*/)) suites = substr(line, RLENGTH + 1)
          else if (match(line, /^Types:[ \t]*/)) types = substr(line, RLENGTH + 1)
          else if (match(line, /^Enabled:[ \t]*/)) enabled = tolower(substr(line, RLENGTH + 1))
        }
        if (enabled != "no" && (" " types " ") ~ / deb / && (" " suites " ") ~ / bookworm /) {
          split(uris, u, /[ \t]+/); print u[1]; exit
        }
      }' "$f")
    if [[ -n "$uri" ]]; then printf '%s\n' "$uri"; return; fi
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    uri=$(awk '$1 == "deb" {
        i = 2
        if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
        if ($(i + 1) == "bookworm") { print $i; exit }
      }' "$f")
    if [[ -n "$uri" ]]; then printf '%s\n' "$uri"; return; fi
  done
  return 1
}

build_debian() {
  [[ $EUID -eq 0 ]] || die "building $DEBIAN_IMAGE needs root (debootstrap)"
  command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install -y debootstrap)"
  local mirror
  mirror=$(detect_mirror) || die "no Debian bookworm mirror found in /etc/apt/sources.list.d (set DEBIAN_MIRROR)"

  new_workdir
  local root="$WORK/rootfs"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >>"$LOG" 2>&1 ||
    die "debootstrap bookworm from $mirror failed"

  # Same apt sources as the host (updates + security), if it uses the deb822 file.
  if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
    cp -- /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/debian.sources"
    rm -f -- "$root/etc/apt/sources.list"
  fi
  # debootstrap's /proc, /sys (and possibly /dev) mounts must be gone before
  # anything below is deleted or tar reads the tree.
  unmount_under "$root"
  if awk -v d="${root:?}/" 'index($2, d) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
    die "could not unmount everything under $root"
  fi
  # Keep it small and free of host specifics (Docker provides these at run time).
  rm -rf "${root:?}"/var/lib/apt/lists/* "${root:?}"/var/cache/apt/*.bin \
    "${root:?}"/var/cache/apt/archives/*.deb "${root:?}"/var/cache/apt/archives/partial/* \
    "${root:?}"/var/log/*.log "${root:?}"/var/log/apt/* "${root:?}"/tmp/* "${root:?}"/dev/* 2>/dev/null || true
  : >"$root/etc/resolv.conf"
  : >"$root/etc/hostname"

  tar -C "$root" --numeric-owner -c . 2>>"$LOG" |
    docker import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'CMD ["bash"]' \
      --change 'LABEL spawner.standin=debian' \
      --message "stand-in for debian:bookworm (debootstrap minbase)" \
      - "$DEBIAN_IMAGE" >>"$LOG" 2>&1 ||
    die "docker import of $DEBIAN_IMAGE failed"
  remove_workdir
}

build_node() {
  image_exists "$DEBIAN_IMAGE" || die "$DEBIAN_IMAGE is missing (build it first)"
  [[ -x "$HOST_NODE" ]] || die "$HOST_NODE not found (the host's Node 20 is copied into the image)"
  [[ -d "$HOST_NODE_MODULES/npm" ]] || die "$HOST_NODE_MODULES/npm not found"
  [[ -f "$HOST_NODE_HEADERS/node.h" ]] || die "$HOST_NODE_HEADERS/node.h not found (node headers are needed for node-gyp)"
  local version
  version=$("$HOST_NODE" --version) || die "$HOST_NODE does not run"
  [[ "$version" == v20.* ]] || die "host node is $version, expected v20.x"

  new_workdir
  local ctx="$WORK/ctx"
  mkdir -p "$ctx/node_modules"
  cp -a -- "$STANDIN_DIR/node/." "$ctx/"
  cp -- "$HOST_NODE" "$ctx/node"
  cp -a -- "$HOST_NODE_MODULES/npm" "$ctx/node_modules/npm"
  if [[ -d "$HOST_NODE_MODULES/corepack" ]]; then
    cp -a -- "$HOST_NODE_MODULES/corepack" "$ctx/node_modules/corepack"
  fi
  cp -a -- "$HOST_NODE_HEADERS" "$ctx/include-node"
  chmod 0755 "$ctx/node" "$ctx/docker-entrypoint.sh"
  chmod -R a+rX "$ctx"
  docker build --build-arg "NODE_VERSION=${version#v}" -t "$NODE_IMAGE" "$ctx" >>"$LOG" 2>&1 ||
    die "docker build of $NODE_IMAGE failed"
  remove_workdir
}

build_nginx() {
  [[ -x "$HOST_BUSYBOX" ]] || die "$HOST_BUSYBOX not found (apt-get install -y busybox-static)"
  if command -v file >/dev/null && ! file -L "$HOST_BUSYBOX" | grep -q 'statically linked'; then
    die "$HOST_BUSYBOX is not statically linked (apt-get install -y busybox-static)"
  fi
  new_workdir
  local ctx="$WORK/ctx"
  mkdir -p "$ctx"
  cp -a -- "$STANDIN_DIR/nginx-unprivileged/." "$ctx/"
  mkdir -p "$ctx/rootfs/bin"
  cp -- "$HOST_BUSYBOX" "$ctx/rootfs/bin/busybox"
  chmod 0755 "$ctx/rootfs/bin/busybox" "$ctx/rootfs/docker-entrypoint.sh" "$ctx/rootfs/usr/sbin/nginx"
  chmod 0644 "$ctx/rootfs/etc/passwd" "$ctx/rootfs/etc/group" "$ctx/rootfs/usr/share/nginx/html/index.html"
  docker build -t "$NGINX_IMAGE" "$ctx" >>"$LOG" 2>&1 ||
    die "docker build of $NGINX_IMAGE failed"
  remove_workdir
}

ensure() { # ensure NAME IMAGE
  local name=$1 image=$2 start
  if [[ "${FORCE:-0}" != 1 ]] && image_exists "$image"; then
    printf '%s: already present (%s)\n' "$image" "$(image_size "$image")"
    return
  fi
  local old_id
  old_id=$(docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
  start=$SECONDS
  "build_$name"
  if [[ -n "$old_id" && "$old_id" != "$(docker image inspect --format '{{.Id}}' "$image")" ]]; then
    STALE+=("$old_id")
  fi
  printf '%s: built in %ss (%s)\n' "$image" "$((SECONDS - start))" "$(image_size "$image")"
}

main() {
  local targets=("$@") t
  [[ ${#targets[@]} -gt 0 ]] || targets=(debian node nginx)
  for t in "${targets[@]}"; do
    case "$t" in
      debian | node | nginx) ;;
      -h | --help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
      *) die "unknown image '$t' (expected: debian, node, nginx)" ;;
    esac
  done

  command -v docker >/dev/null || die "docker CLI not found"
  docker info >/dev/null 2>&1 || die "cannot reach the Docker engine (is dockerd running? DOCKER_HOST=${DOCKER_HOST:-unix:///var/run/docker.sock})"

  # Two runs at once would race on the same tags.
  exec 9>"${TMPDIR:-/tmp}/spawner-build-standin-images.lock"
  flock 9 || die "cannot lock ${TMPDIR:-/tmp}/spawner-build-standin-images.lock"

  local want_debian=0
  for t in "${targets[@]}"; do
    if [[ "$t" == debian ]]; then want_debian=1; fi
    # node needs the debian base; build it too if it is missing.
    if [[ "$t" == node ]] && ! image_exists "$DEBIAN_IMAGE"; then want_debian=1; fi
  done
  if [[ $want_debian == 1 ]]; then ensure debian "$DEBIAN_IMAGE"; fi
  for t in "${targets[@]}"; do
    case "$t" in
      node) ensure node "$NODE_IMAGE" ;;
      nginx) ensure nginx "$NGINX_IMAGE" ;;
    esac
  done
  # Drop the previous builds (newest first, so a replaced node image no longer
  # holds on to the replaced debian image), unless something still uses them.
  local i
  for ((i = ${#STALE[@]} - 1; i >= 0; i--)); do
    docker image rm "${STALE[$i]}" >/dev/null 2>&1 || true
  done
}

main "$@"
