# syntax=docker/dockerfile:1
# Portico's container images: one build, three small non-root runtime images.
#   docker build --target operator   -t portico-operator .
#   docker build --target controller -t portico-controller .
#   docker build --target engine     -t portico-engine .
# See docs/deploy.md for how to run each.
ARG NODE_VERSION=20

# ---- build: TypeScript → dist/, the web console → console/dist (needs the dev tools) ----
FROM node:${NODE_VERSION}-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY bin ./bin
COPY src ./src
COPY console ./console
RUN npm run build \
 && mkdir -p /out/empty

# ---- deps: production node_modules only; compilers stay in this stage ----
FROM node:${NODE_VERSION}-slim AS deps
WORKDIR /app
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# --ignore-scripts skips "prepare" (a dev build); only the SQLite addon needs its install step.
RUN npm ci --omit=dev --ignore-scripts \
 && npm rebuild better-sqlite3 \
 && npm cache clean --force

# ---- runtime: distroless Node.js (no shell, no package manager), user 65532 ----
FROM gcr.io/distroless/nodejs20-debian12:nonroot AS runtime
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist/src ./dist/src
USER 65532:65532

# The operator (the "AKO" role); the Helm chart passes `operator --in-cluster ...` as arguments.
FROM runtime AS operator
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/portico.js"]
CMD ["operator", "--help"]

# The controller: REST API and web console on 9080, SQLite data in /var/lib/portico.
FROM runtime AS controller
COPY --from=build /src/console/dist ./console/dist
# an empty data directory owned by the runtime user (distroless has no shell to mkdir)
COPY --from=build --chown=65532:65532 /out/empty /var/lib/portico
VOLUME ["/var/lib/portico"]
EXPOSE 9080
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/portico.js", "controller"]
CMD ["--listen", "0.0.0.0:9080", "--data", "/var/lib/portico"]

# A service engine; append `--controller URL --join-token TOKEN [--vip-mode l2 --interface IF]`.
# In L2 mode it runs `ip addr` and `arping`, so this image is node:20-slim with iproute2 and
# iputils-arping rather than distroless; it runs as the image's unprivileged user node (1000).
# Ports below 1024 and L2 VIPs need NET_BIND_SERVICE, NET_ADMIN, NET_RAW (see docs/deploy.md).
FROM node:${NODE_VERSION}-slim AS engine
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 iputils-arping \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /var/lib/portico-engine \
 && chown 1000:1000 /var/lib/portico-engine
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/package.json ./package.json
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist/src ./dist/src
USER 1000:1000
VOLUME ["/var/lib/portico-engine"]
ENTRYPOINT ["node", "/app/bin/portico.js", "engine", "--data", "/var/lib/portico-engine"]
