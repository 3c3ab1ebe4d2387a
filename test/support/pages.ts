import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

/** What the fake build holds, for tests that compare answers with it. */
export const FAKE_PAGES = {
  indexHtml: '<!doctype html><html><head><title>External Tool Access</title><script type="module" src="/assets/index-B4x9Qz1k.js"></script></head><body><div id="root"></div></body></html>',
  script: { path: "/assets/index-B4x9Qz1k.js", text: 'console.log("the pages");\n' },
  style: { path: "/assets/index-Cq7Lm2aa.css", text: "body { margin: 0 }\n" },
  /** In private.txt beside index.html and in secret.txt beside the build folder: no request may read it. */
  secret: "TOP-SECRET-FILE-CONTENT",
};

/**
 * A stand-in for `npm run build:web`'s output in a temporary folder (pass `webDir` as WEB_DIR), so
 * a test does not depend on whether the real pages were built. `remove()` deletes it.
 */
export async function fakePagesBuild(): Promise<{ webDir: string; remove(): Promise<void> }> {
  const root = await mkdtemp(path.join(tmpdir(), "xta-pages-"));
  const webDir = path.join(root, "web");
  await mkdir(path.join(webDir, "assets"), { recursive: true });
  await writeFile(path.join(webDir, "index.html"), FAKE_PAGES.indexHtml);
  await writeFile(path.join(webDir, FAKE_PAGES.script.path), FAKE_PAGES.script.text);
  await writeFile(path.join(webDir, FAKE_PAGES.style.path), FAKE_PAGES.style.text);
  await writeFile(path.join(webDir, "private.txt"), FAKE_PAGES.secret);
  await writeFile(path.join(root, "secret.txt"), FAKE_PAGES.secret);
  return { webDir, remove: () => rm(root, { recursive: true, force: true }) };
}
