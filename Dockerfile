# syntax=docker/dockerfile:1
#
# Builds exactly what `npm start` runs: `npm run build` (tsc -p tsconfig.build.json, then the web
# pages with Vite into dist/web), then `node dist/src/main.js`. Checked by test/deploy/docker-compose.test.ts.
# Vite is a dev dependency: the pages are built here, in the builder, and reach the runtime inside dist/.
# The admin CLI is compiled too (no ts-node in this image): `node dist/src/cli/main.js <command>`,
# e.g. `docker compose exec app node dist/src/cli/main.js list-keys` (test/cli/compiled-cli.test.ts).

# ---- builder: full toolchain, dev dependencies, compile TypeScript ----
FROM node:20-bookworm-slim AS builder
# better-sqlite3 and bcrypt are native modules; node-gyp needs these when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

COPY package.json package-lock.json ./
RUN npm ci

COPY tsconfig.json tsconfig.build.json ./
COPY src/ ./src/
COPY scripts/ ./scripts/
COPY ormconfig.ts schema.graphql ./
COPY web/ ./web/
RUN npm run build \
 && npm prune --omit=dev

# ---- runtime: production dependencies and compiled output only (dist/src, and the pages in dist/web) ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app

COPY --from=builder --chown=node:node /app/package.json ./package.json
COPY --from=builder --chown=node:node /app/node_modules ./node_modules
COPY --from=builder --chown=node:node /app/dist ./dist

# Default database (no DATABASE_URL) is SQLite at data/external-tool-access.sqlite, relative to /app.
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]

USER node
EXPOSE 4000
# The slim image has no curl or wget; use node's own fetch.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:4000/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/main.js"]
