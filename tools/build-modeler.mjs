// Builds the modeler bundle with esbuild (from npm, package-lock.json): web/static/js/modeler-entry.js (bpmn-js
// Modeler + properties panel + the spiffworkflow moddle descriptor) → web/static/vendor/modeler/modeler.bundle.js,
// plus the properties panel's CSS. Run by tools/web-assets.sh; the output is git-ignored (web/static/vendor/).
// Usage: node tools/build-modeler.mjs <output folder>
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = resolve(process.argv[2] || join(root, "web/static/vendor/modeler"));
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(root, "web/static/js/modeler-entry.js")],
  outfile: join(out, "modeler.bundle.js"),
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  legalComments: "none",
  loader: { ".js": "jsx" },
  jsx: "automatic",
  jsxImportSource: "preact",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});
copyFileSync(join(root, "node_modules/@bpmn-io/properties-panel/dist/assets/properties-panel.css"),
             join(out, "properties-panel.css"));
