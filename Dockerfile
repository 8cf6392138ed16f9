# Colmena's image: a build stage compiles the TypeScript with the dev
# dependencies; the runtime stage holds production dependencies, the compiled
# dist/ and nats-server (for `colmena up`'s embedded server; cluster nodes
# connect to their NATS with --nats). test/deploy/image.test.ts rehearses the
# runtime stage without Docker: what its COPY lines copy, `npm ci --omit=dev`,
# then `colmena up` from there.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# The lockfile before the sources: the dependency layer is reused until it changes.
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY tsconfig.json ./
COPY actors ./actors
COPY bridge ./bridge
COPY cli ./cli
COPY loadtest ./loadtest
COPY nats ./nats
COPY runtime ./runtime
COPY supervisors ./supervisors
RUN npx tsc -p tsconfig.json

FROM node:20-bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends nats-server \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080 4222
VOLUME ["/data"]
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s \
  CMD node -e "fetch('http://127.0.0.1:8080/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["node", "dist/cli/main.js"]
# Listening beyond loopback needs authentication (http.auth) or --insecure: add them to the command.
CMD ["up", "--data-dir", "/data"]
