#!/usr/bin/env bash
# Starts the PostgreSQL server the second test run needs (TEST_DATABASE=postgres), as root:
# installs Debian's postgresql if missing, makes the cluster listen on 127.0.0.1 only, starts it,
# and makes sure a role spawner_test (LOGIN CREATEDB, nothing more) exists. Idempotent.
#
# Authentication: a generated password (scram-sha-256, Debian's default for loopback TCP), kept in
# a file readable only by its owner, outside the repository. Not `trust`: trust on loopback lets
# every local user and process connect as the role without anything to steal. The tests read the
# URL from that file (or from TEST_DATABASE_URL when it is set).
set -euo pipefail

log() { printf 'start-postgres: %s\n' "$*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
  echo "start-postgres: run as root (it installs Debian packages and starts the cluster)" >&2
  exit 1
fi

url_file="${SPAWNER_TEST_DATABASE_URL_FILE:-${XDG_CONFIG_HOME:-$HOME/.config}/spawner/test-database-url}"
role=spawner_test
host=127.0.0.1
port=5432

if ! dpkg-query -W -f='${Status}' postgresql 2>/dev/null | grep -q 'install ok installed'; then
  log "installing postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

# Debian's package creates one cluster (e.g. 15/main); use the newest one there is.
read -r version cluster < <(pg_lsclusters --no-header | awk '{print $1, $2}' | sort -V | tail -n 1)
if [ -z "${version:-}" ]; then
  echo "start-postgres: no PostgreSQL cluster found (pg_lsclusters is empty)" >&2
  exit 1
fi

# Loopback only, on the usual port: the tests never talk to another address, nor should anyone
# else reach this server.
conf_dir="/etc/postgresql/$version/$cluster/conf.d"
mkdir -p "$conf_dir"
wanted="listen_addresses = '$host'
port = $port"
if [ "$(cat "$conf_dir/spawner-test.conf" 2>/dev/null)" != "$wanted" ]; then
  printf '%s\n' "$wanted" >"$conf_dir/spawner-test.conf"
  pg_ctlcluster "$version" "$cluster" stop >/dev/null 2>&1 || true
fi

if ! pg_ctlcluster "$version" "$cluster" status >/dev/null 2>&1; then
  log "starting cluster $version/$cluster on $host:$port"
  pg_ctlcluster "$version" "$cluster" start
fi
for _ in $(seq 1 60); do
  pg_isready -q -h "$host" -p "$port" && break
  sleep 0.5
done
if ! pg_isready -q -h "$host" -p "$port"; then
  echo "start-postgres: the server does not answer on $host:$port; last lines of its log:" >&2
  tail -n 20 "/var/log/postgresql/postgresql-$version-$cluster.log" >&2 || true
  exit 1
fi

# The password: kept when the file has one, generated otherwise; the role is (re)set to it.
mkdir -p "$(dirname "$url_file")"
password=''
if [ -s "$url_file" ]; then
  password="$(sed -n 's|^postgres://[^:]*:\([^@]*\)@.*|\1|p' "$url_file")"
fi
if [ -z "$password" ]; then
  password="$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')"
fi

psql_admin() { runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" "$@"; }
if [ "$(psql_admin -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" != 1 ]; then
  log "creating role $role"
  psql_admin -c "CREATE ROLE $role LOGIN CREATEDB"
fi
# Hex only, so it needs no quoting. synchronous_commit=off for this role only: tests lose nothing
# that matters if the server crashes, and commits no longer wait for the disk (no risk of damage).
# Through stdin, so the password never shows in the process list.
psql_admin <<SQL
ALTER ROLE $role WITH LOGIN CREATEDB NOSUPERUSER PASSWORD '$password';
ALTER ROLE $role SET synchronous_commit = off;
SQL

umask 077
printf 'postgres://%s:%s@%s:%s/postgres\n' "$role" "$password" "$host" "$port" >"$url_file.tmp"
mv "$url_file.tmp" "$url_file"
log "PostgreSQL $version ready on $host:$port; role $role, URL in $url_file"
