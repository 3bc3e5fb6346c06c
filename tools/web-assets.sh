#!/usr/bin/env bash
# The pages' front-end libraries: `npm ci` from package-lock.json (exact versions, integrity-checked), then the
# few files the pages load are copied to web/static/vendor/ (git-ignored, like node_modules/):
#   htmx.min.js                                   htmx.org — partial updates (claim/unclaim, mark read)
#   bpmn-js/bpmn-navigated-viewer.production.min.js + assets/   bpmn-js — the case diagram (global BpmnJS)
#   echarts.min.js                                echarts — the supervisor dashboard's charts
#   modeler/modeler.bundle.js + properties-panel.css + bpmnlint.css   the diagram editor (/models): bpmn-js Modeler,
#                                                 the properties panel (bpmn-js-properties-panel), bpmnlint's recommended
#                                                 rules (bpmn-js-bpmnlint) and web/static/js/spiffworkflow-moddle.json,
#                                                 bundled by esbuild (tools/build-modeler.mjs, under a second)
# Idempotent: nothing is installed when node_modules matches the lock file; the copy is redone each time (cheap).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found: install Node.js 20 and npm (the pages' diagram, charts and htmx come from the npm registry)" >&2
  exit 1
fi
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ ! -d node_modules/bpmn-js ] \
    || [ ! -d node_modules/esbuild ] || [ ! -d node_modules/bpmn-js-properties-panel ] || [ ! -d node_modules/bpmn-js-bpmnlint ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
vendor=web/static/vendor
rm -rf "$vendor.tmp"
mkdir -p "$vendor.tmp/bpmn-js"
cp node_modules/htmx.org/dist/htmx.min.js "$vendor.tmp/"
cp node_modules/echarts/dist/echarts.min.js "$vendor.tmp/"
cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js "$vendor.tmp/bpmn-js/"
cp -R node_modules/bpmn-js/dist/assets "$vendor.tmp/bpmn-js/assets"
node tools/build-modeler.mjs "$vendor.tmp/modeler"
for pkg in htmx.org echarts bpmn-js bpmn-js-properties-panel @bpmn-io/properties-panel bpmnlint bpmn-js-bpmnlint esbuild; do
  node -e "const p=require('./node_modules/$pkg/package.json'); console.log(p.name+'@'+p.version+' '+p.license)"
done >"$vendor.tmp/VERSIONS"
rm -rf "$vendor"
mv "$vendor.tmp" "$vendor"
touch "$vendor/.installed"
