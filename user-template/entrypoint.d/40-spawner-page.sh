#!/bin/sh
# Renders this person's pages from the SPAWNER_* environment variables, once at
# container start (run by the nginx image's /docker-entrypoint.sh).
#   templates: /usr/share/spawner/templates/*.html  (placeholders @@NAME@@)
#   output:    /tmp/spawner-www/*.html, served through the symlinks in
#              /usr/share/nginx/html (so a read-only root filesystem is fine)
# Only POSIX sh + sed/date, so it runs on the upstream alpine image and on the
# busybox stand-in alike.
set -eu

ME=$(basename "$0")
TEMPLATE_DIR=/usr/share/spawner/templates
OUT_DIR=/tmp/spawner-www

log() {
  if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
    echo "$ME: $*"
  fi
}

# One line, HTML-escaped (safe in element content and in quoted attributes).
html_escape() {
  printf '%s' "$1" | tr '\r\n\t' '   ' | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' \
    -e 's/"/\&quot;/g' -e "s/'/\&#39;/g"
}

# Escape a value for the replacement side of a sed s||| command.
sed_value() {
  printf '%s' "$1" | sed -e 's/[\\|&]/\\&/g'
}

user=${SPAWNER_USER:-}
if [ -z "$user" ]; then
  log "warning: SPAWNER_USER is not set; greeting a generic user"
  user=friend
fi
public_url=${SPAWNER_PUBLIC_URL:-}
[ -n "$public_url" ] || public_url="(not set)"
base_path=${SPAWNER_BASE_PATH:-/}

if [ -d /data ] && [ -w /data ]; then
  data_status="writable"
elif [ -d /data ]; then
  data_status="read-only for this user"
else
  data_status="not mounted"
fi
started=$(date -u '+%Y-%m-%d %H:%M:%S UTC')

if ! mkdir -p "$OUT_DIR" 2>/dev/null || [ ! -w "$OUT_DIR" ]; then
  echo "$ME: error: cannot write $OUT_DIR; the container needs a writable /tmp (e.g. --tmpfs /tmp)" >&2
  exit 1
fi

USER_V=$(sed_value "$(html_escape "$user")")
URL_V=$(sed_value "$(html_escape "$public_url")")
BASE_V=$(sed_value "$(html_escape "$base_path")")
DATA_V=$(sed_value "$(html_escape "$data_status")")
STARTED_V=$(sed_value "$(html_escape "$started")")

for template in "$TEMPLATE_DIR"/*.html; do
  [ -f "$template" ] || continue
  page=${template##*/}
  sed -e "s|@@USER@@|$USER_V|g" \
      -e "s|@@PUBLIC_URL@@|$URL_V|g" \
      -e "s|@@BASE_PATH@@|$BASE_V|g" \
      -e "s|@@DATA_STATUS@@|$DATA_V|g" \
      -e "s|@@STARTED@@|$STARTED_V|g" \
      "$template" >"$OUT_DIR/.$page.tmp"
  chmod 0644 "$OUT_DIR/.$page.tmp"
  mv -f "$OUT_DIR/.$page.tmp" "$OUT_DIR/$page"
done

log "rendered pages for user '$user' into $OUT_DIR"
