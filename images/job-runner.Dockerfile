# syntax=docker/dockerfile:1
# The job-runner image: one shard of a run per pod, started by the operator's Indexed Jobs as
#   node /app/dist/job-runner/src/main.js shard --out <uri> --run-id <id> --stage scan|build
# (the operator passes only the arguments; the index comes from JOB_COMPLETION_INDEX).
#
# Build from the repository root:
#   docker build -f images/job-runner.Dockerfile -t ghcr.io/sparkify/sparkify-lake-job-runner:0.1.0 .
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
RUN npx tsc -b job-runner

# The runtime: node, the production node_modules and the compiled engine, owned by root and not
# writable by the process. It runs as 65532 (numeric, so the kubelet can verify runAsNonRoot), and
# writes only to /tmp, an emptyDir in the pods the operator creates (readOnlyRootFilesystem).
FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOME=/tmp
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist/job-runner ./dist/job-runner
COPY package.json ./
USER 65532:65532
ENTRYPOINT ["node", "/app/dist/job-runner/src/main.js"]
