// Builds the modeler bundle with esbuild (from npm, package-lock.json): web/static/js/modeler-entry.js (bpmn-js
// Modeler + properties panel + bpmnlint's recommended rules, compiled here with bpmnlint's compile-config, + the
// spiffworkflow moddle descriptor) → web/static/vendor/modeler/modeler.bundle.js, plus the panel's and the lint's CSS. Run by tools/web-assets.sh; the output is git-ignored (web/static/vendor/).
// Usage: node tools/build-modeler.mjs <output folder>
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = resolve(process.argv[2] || join(root, "web/static/vendor/modeler"));
mkdirSync(out, { recursive: true });
const require = createRequire(join(root, "package.json"));
const compileConfig = require("bpmnlint/lib/support/compile-config");
const lintConfig = await compileConfig({ extends: "bpmnlint:recommended" });
// the compiled configuration as a virtual module (its imports resolve from the project's node_modules)
const bpmnlintConfig = {
  name: "bpmnlint-config",
  setup(b) {
    b.onResolve({ filter: /^eco-bpmnlint-config$/ }, () => ({ path: "eco-bpmnlint-config", namespace: "bpmnlint" }));
    b.onLoad({ filter: /.*/, namespace: "bpmnlint" }, () => ({ contents: lintConfig, resolveDir: root, loader: "js" }));
  },
};
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
  plugins: [bpmnlintConfig],
});
copyFileSync(join(root, "node_modules/@bpmn-io/properties-panel/dist/assets/properties-panel.css"),
             join(out, "properties-panel.css"));
copyFileSync(join(root, "node_modules/bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css"), join(out, "bpmnlint.css"));
