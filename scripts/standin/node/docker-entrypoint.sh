#!/bin/sh
# TEST STAND-IN ONLY: same behaviour as the upstream node image's entrypoint.
set -e

# Run node if the first argument is a flag, is not a command on PATH, or is a
# file that is not executable (e.g. `docker run IMAGE -e "..."` or `IMAGE app.js`).
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi

exec "$@"
