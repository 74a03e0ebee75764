# Hookbot server image. Build: docker build -t hookbot . — run with docker-compose.yml, or with DATABASE_URL,
# REDIS_URL, BASE_URL and HOOKBOT_SECRETS_KEY set (README, "For operators").
#
# Build stage: a C++ toolchain compiles isolated-vm's native module from source (no downloaded prebuilt binary),
# then the workspaces are built and the development dependencies pruned.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
# The npm that honours package.json's allowScripts (install scripts only for isolated-vm and esbuild).
RUN npm install -g npm@11.19.1
# prebuild-install (isolated-vm's install script) skips the download and compiles.
ENV npm_config_build_from_source=true
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/bots/package.json packages/bots/
COPY packages/runtime/package.json packages/runtime/
COPY packages/server/package.json packages/server/
COPY packages/cli/package.json packages/cli/
COPY packages/console/package.json packages/console/
RUN npm ci
COPY tsconfig.base.json tsconfig.json ./
COPY packages packages
COPY examples examples
RUN npm run build
RUN npm prune --omit=dev

# Runtime stage: no compiler, no sources beyond what the built packages and the demo seed read; a non-root user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
  PORT=8103 \
  HOOKBOT_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/packages packages
COPY --from=build /app/examples examples
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8103
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.PORT + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--no-node-snapshot", "packages/server/dist/main.js"]
