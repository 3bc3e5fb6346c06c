/* The engine's settings of a task in the properties panel, with choices instead of typed XML: the
   spiffworkflow:properties the engine reads (candidate role, form and stage from lists; due-date rule, guard, notify,
   result_variable, append_to, case_status as text) and a service task's operator with its parameters. Part of the
   modeler bundle (web/static/js/modeler-entry.js); the lists come from the page (config.ecoChoices). */
import { h } from "@bpmn-io/properties-panel/preact";
import { Group, SelectEntry, TextFieldEntry, isSelectEntryEdited, isTextFieldEntryEdited } from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";

const PROPERTIES = [
  { name: "role", label: "候选角色（role）", choices: "roles" },
  { name: "form", label: "表单（form）", choices: "forms" },
  { name: "stage", label: "阶段（stage）", choices: "stages" },
  { name: "due", label: "期限规则（due）" },
  { name: "guard", label: "办结条件（guard）" },
  { name: "guard_field", label: "条件不满足时的字段（guard_field）" },
  { name: "guard_message", label: "条件不满足时的提示（guard_message）" },
  { name: "notify", label: "通知（notify）" },
  { name: "result_variable", label: "结果变量（result_variable）" },
  { name: "append_to", label: "追加到（append_to）" },
  { name: "case_status", label: "案件状态（case_status）" },
];

const TASK_TYPES = ["bpmn:UserTask", "bpmn:ManualTask", "bpmn:ServiceTask", "bpmn:ScriptTask", "bpmn:EndEvent"];

function extension(bo, type) {
  const ext = bo.extensionElements;
  return ext ? (ext.values || []).find((v) => v.$type === type) : undefined;
}

function propertyValue(element, name) {
  const props = extension(element.businessObject, "spiffworkflow:Properties");
  const prop = props && (props.properties || []).find((p) => p.name === name);
  return prop ? prop.value || "" : "";
}

/** Set (or remove, when empty) one spiffworkflow:property, creating the containers when missing. */
function setProperty(services, element, name, value) {
  const { modeling, bpmnFactory, moddle } = services;
  const bo = element.businessObject;
  let ext = bo.extensionElements;
  if (!ext) {
    if (!value) return;
    ext = bpmnFactory.create("bpmn:ExtensionElements", { values: [] });
    ext.$parent = bo;
    modeling.updateModdleProperties(element, bo, { extensionElements: ext });
  }
  let props = extension(bo, "spiffworkflow:Properties");
  if (!props) {
    if (!value) return;
    props = moddle.create("spiffworkflow:Properties", { properties: [] });
    props.$parent = ext;
    modeling.updateModdleProperties(element, ext, { values: [...(ext.values || []), props] });
  }
  const list = props.properties || [];
  const prop = list.find((p) => p.name === name);
  if (!value) {
    if (prop) modeling.updateModdleProperties(element, props, { properties: list.filter((p) => p !== prop) });
  } else if (prop) {
    modeling.updateModdleProperties(element, prop, { value });
  } else {
    const created = moddle.create("spiffworkflow:Property", { name, value });
    created.$parent = props;
    modeling.updateModdleProperties(element, props, { properties: [...list, created] });
  }
}

function services(injector) {
  return { modeling: injector.get("modeling"), bpmnFactory: injector.get("bpmnFactory"), moddle: injector.get("moddle") };
}

function PropertyEntry(props) {
  const { element, id, spec, choices } = props;
  const injector = useService("injector");
  const debounce = useService("debounceInput");
  const getValue = () => propertyValue(element, spec.name);
  const setValue = (value) => setProperty(services(injector), element, spec.name, (value || "").trim());
  if (spec.choices) {
    const getOptions = () => {
      const current = getValue();
      const options = [{ value: "", label: "（无）" }].concat(choices[spec.choices] || []);
      if (current && !options.some((o) => o.value === current)) options.push({ value: current, label: current + "（不在列表中）" });
      return options;
    };
    return h(SelectEntry, { element, id, label: spec.label, getValue, setValue, getOptions });
  }
  return h(TextFieldEntry, { element, id, label: spec.label, getValue, setValue, debounce });
}

function operatorOf(element) {
  return extension(element.businessObject, "spiffworkflow:ServiceTaskOperator");
}

function OperatorEntry(props) {
  const { element, id } = props;
  const modeling = useService("modeling");
  const debounce = useService("debounceInput");
  const operator = operatorOf(element);
  return h(TextFieldEntry, {
    element, id, label: "服务操作（serviceTaskOperator）", debounce,
    getValue: () => operator.id || "",
    setValue: (value) => modeling.updateModdleProperties(element, operator, { id: (value || "").trim() }),
  });
}

function ParameterEntry(props) {
  const { element, id, parameter, choices } = props;
  const modeling = useService("modeling");
  const debounce = useService("debounceInput");
  const operator = operatorOf(element);
  if (operator && operator.id === "render_document" && parameter.id === "form") {  // the document template: forms 1–7
    return h(SelectEntry, {
      element, id, label: "文书模板（form）",
      getValue: () => parameter.value || "",
      setValue: (value) => modeling.updateModdleProperties(element, parameter, { value: value || "" }),
      getOptions: () => {
        const options = (choices.documents || []).slice();
        if (parameter.value && !options.some((o) => o.value === parameter.value)) {
          options.push({ value: parameter.value, label: parameter.value + "（没有此模板）" });
        }
        return options;
      },
    });
  }
  return h(TextFieldEntry, {
    element, id, label: `参数 ${parameter.id}（${parameter.type || "any"}）`, debounce,
    getValue: () => parameter.value || "",
    setValue: (value) => modeling.updateModdleProperties(element, parameter, { value: value || "" }),
  });
}

export default function SpiffPropertiesProvider(propertiesPanel, injector) {
  const choices = injector.get("config.ecoChoices", false) || {};
  this.getGroups = (element) => (groups) => {
    const bo = element.businessObject;
    if (!bo || !TASK_TYPES.some((t) => bo.$instanceOf && bo.$instanceOf(t))) return groups;
    const entries = PROPERTIES.map((spec) => ({
      id: `spiff-${spec.name}`, spec, choices, component: PropertyEntry,
      isEdited: spec.choices ? isSelectEntryEdited : isTextFieldEntryEdited,
    }));
    const at = Math.min(1, groups.length);
    groups.splice(at, 0, { id: "spiff-properties", label: "办理设置", entries, component: Group, shouldOpen: true });
    const operator = operatorOf(element);
    if (operator) {
      const params = (operator.parameterList && operator.parameterList.parameters) || [];
      const opEntries = [{ id: "spiff-operator", component: OperatorEntry, isEdited: isTextFieldEntryEdited }].concat(
        params.map((p, i) => ({ id: `spiff-parameter-${i}`, parameter: p, choices, component: ParameterEntry,
                                isEdited: isTextFieldEntryEdited })));
      groups.splice(at + 1, 0, { id: "spiff-operator", label: "服务操作与参数", entries: opEntries, component: Group,
                                 shouldOpen: true });
    }
    return groups;
  };
  propertiesPanel.registerProvider(400, this);
}

SpiffPropertiesProvider.$inject = ["propertiesPanel", "injector"];
