import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// Placeholder (the web branch's version replaces it): sources in web/, output in dist/web.
const root = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root,
  base: "/",
  build: { outDir: fileURLToPath(new URL("../dist/web", import.meta.url)), emptyOutDir: true },
});
