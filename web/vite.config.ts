import { fileURLToPath } from "node:url";
import { defineConfig, type ProxyOptions } from "vite";

const webRoot = fileURLToPath(new URL(".", import.meta.url));

/** Dev only. The proxy drops a Basic challenge, as the service itself does for the pages' requests (x-requested-with). */
function graphqlProxy(): Record<string, ProxyOptions> {
  return {
    "/graphql": {
      target: `http://127.0.0.1:${process.env.API_PORT ?? "4000"}`,
      configure: (proxy) => {
        proxy.on("proxyRes", (response) => {
          delete response.headers["www-authenticate"];
        });
      },
    },
  };
}

/**
 * The pages, built into dist/web (served by the service itself at `/`). No inline script or style
 * anywhere in the output: the page CSP is `script-src 'self'; style-src 'self'`. Vite 8 compiles
 * TSX with React's automatic runtime itself, so no React plugin is needed.
 */
export default defineConfig({
  root: webRoot,
  base: "/",
  oxc: { jsx: { runtime: "automatic" } },
  build: {
    outDir: fileURLToPath(new URL("../dist/web", import.meta.url)),
    emptyOutDir: true,
    assetsDir: "assets",
    // The preload polyfill is an inline script: the CSP would refuse it (and modern browsers need none).
    modulePreload: { polyfill: false },
    // Never inline assets as data: URLs in CSS/JS; everything is a hashed file under /assets.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  // `npx vite --config web/vite.config.ts` (or `vite preview`) with the service on API_PORT (4000) for /graphql.
  server: { proxy: graphqlProxy() },
  preview: { proxy: graphqlProxy() },

});
