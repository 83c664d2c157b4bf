# syntax=docker/dockerfile:1
# The operator image: the SparkifyLakeJob controller (node /app/dist/operator/src/main.js), the same
# start function as `sparkify-lake operator`; the Helm chart passes its flags as args.
# It carries the engine too: the operator plans runs and commits them through job-runner/src/index.ts.
#
# Build from the repository root:
#   docker build -f images/operator.Dockerfile -t ghcr.io/sparkify/sparkify-lake-operator:0.1.0 .
#
# Node 24 is the LTS line with the longest support (to April 2028) and ships npm 11, the npm of the
# lock file; pin the base by digest in your registry mirror for reproducible builds.
ARG NODE_IMAGE=node:24-bookworm-slim

# Production dependencies, exactly as locked; no install scripts (none of them needs one).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# The TypeScript compiler needs the development dependencies; they stay in this stage.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.base.json ./
COPY job-runner/tsconfig.json ./job-runner/tsconfig.json
COPY job-runner/src ./job-runner/src
COPY operator/tsconfig.json ./operator/tsconfig.json
COPY operator/src ./operator/src
RUN npx tsc -b operator

# The runtime: node, the production node_modules, the compiled operator and engine, owned by root
# and not writable by the process. It runs as 65532 (numeric, so the kubelet can verify
# runAsNonRoot) with a read-only root filesystem; /tmp is the chart's emptyDir. package.json is
# read for the version (the default runner image tag).
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOME=/tmp
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist/operator ./dist/operator
COPY --from=build /src/dist/job-runner ./dist/job-runner
COPY package.json ./
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/operator/src/main.js"]
