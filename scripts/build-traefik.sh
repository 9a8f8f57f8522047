#!/usr/bin/env bash
# Build the real Traefik binary (pinned version) from its Go module, for end-to-end tests.
#
# The binary is cached OUTSIDE the repo:
#   ${SPAWNER_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/spawner}/traefik-<version>/traefik
# Idempotent: if the cached binary exists and runs, nothing is rebuilt.
# The absolute path of the binary is printed as the LAST line of stdout; all other
# output goes to stderr. Usage: TRAEFIK_BIN="$(scripts/build-traefik.sh | tail -n1)"
#
# Why a tool module (test/traefik-tool/): `go install .../cmd/traefik@version` is refused
# because Traefik's go.mod has replace/exclude directives. Our own module declares
# Traefik as a `tool`, mirrors those directives, and pins every dependency in go.sum,
# so the build runs with -mod=readonly and never edits files in the repo.
#
# Note: the version string is deliberately left at Traefik's default ("dev"): with any
# other value Traefik periodically calls home to check for a newer release unless
# --global.checknewversion=false is given. `go version -m <binary>` shows the real
# module version (github.com/traefik/traefik/v3 v3.6.5).
set -euo pipefail

TRAEFIK_VERSION="v3.6.5"
TRAEFIK_PKG="github.com/traefik/traefik/v3/cmd/traefik"
MIN_GO_MINOR=24 # Traefik v3.6.x needs go >= 1.24

log() { printf 'build-traefik: %s\n' "$*" >&2; }
die() { printf 'build-traefik: error: %s\n' "$*" >&2; exit 1; }

script_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
repo_root="$(cd -- "${script_dir}/.." && pwd -P)"
tool_dir="${repo_root}/test/traefik-tool"

cache_root="${SPAWNER_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/spawner}"
out_dir="${cache_root}/traefik-${TRAEFIK_VERSION}"
bin="${out_dir}/traefik"

binary_works() { [[ -x "$1" ]] && "$1" version >/dev/null 2>&1; }

# Fast path: already built.
if binary_works "${bin}"; then
  printf '%s\n' "${bin}"
  exit 0
fi

[[ -f "${tool_dir}/go.mod" ]] || die "missing ${tool_dir}/go.mod"

go_bin="$(command -v go 2>/dev/null || true)"
if [[ -z "${go_bin}" && -x /usr/local/go/bin/go ]]; then
  go_bin=/usr/local/go/bin/go
fi
[[ -n "${go_bin}" ]] || die "Go toolchain not found (need go >= 1.${MIN_GO_MINOR} on PATH or at /usr/local/go/bin/go)"

export GOTOOLCHAIN=local
export GOWORK=off
export CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+${GOFLAGS} }-mod=readonly"
# go.sum pins every module hash; the checksum-database mirror reachable here does
# not know the Traefik module itself, so don't ask it about that one.
export GONOSUMDB="${GONOSUMDB:+${GONOSUMDB},}github.com/traefik/traefik"

go_version="$("${go_bin}" env GOVERSION 2>/dev/null || true)" # e.g. go1.26.8
if [[ ! "${go_version}" =~ ^go1\.([0-9]+) ]]; then
  die "cannot determine Go version from ${go_bin} (got '${go_version}')"
fi
if (( BASH_REMATCH[1] < MIN_GO_MINOR )); then
  die "${go_version} at ${go_bin} is too old: Traefik ${TRAEFIK_VERSION} needs go >= 1.${MIN_GO_MINOR}"
fi

mkdir -p "${out_dir}" || die "cannot create cache dir ${out_dir}"

# Serialise concurrent builds (e.g. parallel test workers) when flock is available.
if command -v flock >/dev/null 2>&1; then
  exec 9>"${out_dir}/.build.lock"
  flock 9
  if binary_works "${bin}"; then # another process finished the build meanwhile
    printf '%s\n' "${bin}"
    exit 0
  fi
fi

tmp_bin="$(mktemp "${out_dir}/.traefik.XXXXXX")"
trap 'rm -f "${tmp_bin}"' EXIT

log "building Traefik ${TRAEFIK_VERSION} with ${go_version} (first run downloads modules and compiles; several minutes)"
start=${SECONDS}
if ! (cd "${tool_dir}" && "${go_bin}" build -trimpath -ldflags "-s -w" -o "${tmp_bin}" "${TRAEFIK_PKG}") >&2; then
  die "go build of Traefik ${TRAEFIK_VERSION} failed (see Go output above)"
fi
binary_works "${tmp_bin}" || die "built binary does not run '${tmp_bin} version'"
mv -f "${tmp_bin}" "${bin}"
trap - EXIT
log "built ${bin} in $((SECONDS - start))s"

printf '%s\n' "${bin}"
