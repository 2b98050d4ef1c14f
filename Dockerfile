# detsearch: API and trial worker in one image. Everything is installed at build time;
# nothing is downloaded when a container runs.
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV ONNXRUNTIME_NODE_INSTALL=skip
COPY package.json package-lock.json .npmrc ./
# prepare (the build) needs the sources, so install without scripts first
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production DETSEARCH_HOME=/data
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/search-spaces ./search-spaces
COPY --from=build /app/apps/api/public ./apps/api/public
VOLUME ["/data"]
# A container listens on every interface (serve binds 127.0.0.1 by default).
ENV HOST=0.0.0.0
EXPOSE 3000
USER node
ENTRYPOINT ["node", "bin/detsearch.js"]
CMD ["serve", "--port", "3000"]
