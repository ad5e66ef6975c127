# The Jipper worker image (docker-compose.yml's jipper-worker). Build stage compiles TypeScript; the runtime stage
# keeps only production dependencies and dist/.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# package-lock.json lacks other platforms' optional binaries (@swc/core-darwin-*, ...), which `npm ci` counts as out of
# sync; `npm install` then installs the same locked versions.
RUN npm ci --no-audit --no-fund || npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# .jipper/ holds the example library's sandbox; the worker runs unprivileged.
RUN mkdir .jipper && chown node:node .jipper
USER node
CMD ["node", "dist/worker/main.js"]
