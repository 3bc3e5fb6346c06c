/* The modeler bundle's entry (built by tools/build-modeler.mjs with esbuild into web/static/vendor/modeler/, never
   committed): bpmn-js's Modeler, the properties panel, bpmnlint's recommended rules shown live (bpmn-js-bpmnlint) and
   the spiffworkflow moddle descriptor, so that the engine's
   extension elements (properties, serviceTaskOperator with its parameters, preScript / postScript, message
   variables, multi-instance loopDataInputRef / loopDataOutputRef names) survive an import and saveXML.
   Exposes window.EcoModeler = { create(options), moddleExtensions }. */
import BpmnModeler from "bpmn-js/lib/Modeler";
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from "bpmn-js-properties-panel";
import lintModule from "bpmn-js-bpmnlint";
import bpmnlintConfig from "eco-bpmnlint-config";
import spiffworkflow from "./spiffworkflow-moddle.json";
import SpiffPropertiesProvider from "./modeler-spiff-panel.js";

const SpiffPanelModule = { __init__: ["spiffPropertiesProvider"], spiffPropertiesProvider: ["type", SpiffPropertiesProvider] };

const moddleExtensions = { spiffworkflow };

function create(options) {
  const { container, propertiesPanel, lint, choices } = options;
  const config = { container, moddleExtensions, additionalModules: [] };
  if (propertiesPanel) {
    config.propertiesPanel = { parent: propertiesPanel };
    config.additionalModules.push(BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, SpiffPanelModule);
    config.ecoChoices = choices || {};
  }
  if (lint) {
    config.linting = { bpmnlint: bpmnlintConfig, active: true };
    config.additionalModules.push(lintModule);
  }
  return new BpmnModeler(config);
}

window.EcoModeler = { create, moddleExtensions, bpmnlintConfig };
