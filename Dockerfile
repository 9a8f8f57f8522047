# Spawner's image: a build stage that compiles the TypeScript and the native modules
# (better-sqlite3, bcrypt) from source, and a slim runtime stage on the same base image (same
# libc, so the compiled modules load) that holds no compiler, no dev dependencies and no
# build-time CA file, and runs as the unprivileged user "node" (uid 1000).
#
#   docker build -t spawner:latest .
#
# Build arguments:
#   NODE_IMAGE       base image of both stages (default: the upstream node:20-bookworm-slim).
#                    Offline: --build-arg NODE_IMAGE=local/node:20-bookworm-slim, see
#                    scripts/build-standin-images.sh.
#   EXTRA_CA_CERTS   PEM text of extra CA certificates npm must trust in the build stage, for
#                    networks whose proxy re-signs TLS (corporate proxies):
#                    --build-arg EXTRA_CA_CERTS="$(cat corporate-ca.pem)". Used only by npm
#                    in the build stage; the runtime stage never sees it.
#
# The process reaches the Docker socket through the socket's group: run the container with
# --group-add "$(stat -c %g /var/run/docker.sock)" (docker-compose.yml does, via DOCKER_GID),
# or point DOCKER_HOST at a socket proxy (README, "Operators").
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
# The toolchain node-gyp needs; prebuilt binaries are not downloaded (build from source), so
# the result matches this base image's libc and Node ABI exactly.
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends python3 make g++; \
    rm -rf /var/lib/apt/lists/*
# Upstream images keep Node's headers in /usr/local/include/node (the stand-in links them there),
# so node-gyp needs no header download.
ENV npm_config_nodedir=/usr/local \
    npm_config_build_from_source=true \
    npm_config_fund=false \
    npm_config_audit=false \
    npm_config_update_notifier=false
WORKDIR /app

ARG EXTRA_CA_CERTS=""
COPY package.json package-lock.json ./
# All dependencies (the compiler is a dev dependency), then a pruned copy with production
# dependencies only, without compiler leftovers and the bundled prebuilds, checked by loading
# both native modules. All before the sources are copied, so editing src/ reuses this layer.
RUN set -eu; \
    if [ -n "$EXTRA_CA_CERTS" ]; then \
      printf '%s\n' "$EXTRA_CA_CERTS" > /tmp/extra-ca.pem; \
      export NODE_EXTRA_CA_CERTS=/tmp/extra-ca.pem; \
    fi; \
    npm ci --no-audit --no-fund; \
    mkdir -p /prod; \
    cp package.json package-lock.json /prod/; \
    cp -a node_modules /prod/; \
    cd /prod; \
    npm prune --omit=dev --no-audit --no-fund; \
    rm -rf node_modules/better-sqlite3/build/Release/obj* node_modules/better-sqlite3/build/Release/.deps \
      node_modules/better-sqlite3/deps node_modules/better-sqlite3/src \
      node_modules/bcrypt/build/Release/obj* node_modules/bcrypt/build/Release/.deps node_modules/bcrypt/prebuilds; \
    node -e "require('/prod/node_modules/better-sqlite3')(':memory:').prepare('select 1').get(); require('/prod/node_modules/bcrypt').hashSync('x', 4)"; \
    rm -f /tmp/extra-ca.pem

COPY tsconfig.json tsconfig.build.json ./
COPY src/ ./src/
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    DATABASE_PATH=/app/data/spawner.db \
    SPAWNER_PORT=5000
WORKDIR /app
# Owned by root and not writable by the process: only /app/data is.
COPY --from=build /prod/node_modules ./node_modules
COPY package.json ./
COPY drizzle/ ./drizzle/
COPY drizzle-pg/ ./drizzle-pg/
COPY views/ ./views/
COPY public/ ./public/
COPY --from=build /app/dist ./dist
# /run/spawner-docker-proxy: where the socket-proxy profile's socket file lives (a named volume
# there takes this directory's owner on first use, so the proxy, as node, can create it).
RUN set -eu; \
    mkdir -p /app/data /run/spawner-docker-proxy; \
    chown node:node /app/data /run/spawner-docker-proxy; \
    chmod 0750 /app/data /run/spawner-docker-proxy
USER node
VOLUME ["/app/data"]
EXPOSE 5000
# Healthy while the process answers /health and its database works. A Docker engine that does
# not answer makes /health say 503 "degraded" but keeps the container healthy: Traefik drops
# unhealthy containers from its routes, and people should then see Spawner's own message about
# Docker rather than a 404 from Traefik. Node's fetch, since the image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SPAWNER_PORT||5000)+'/health',{signal:AbortSignal.timeout(4000)}).then(r=>r.json().then(b=>process.exit(r.ok||b?.checks?.database==='ok'?0:1))).catch(()=>process.exit(1))"]
CMD ["node", "dist/src/server.js"]
