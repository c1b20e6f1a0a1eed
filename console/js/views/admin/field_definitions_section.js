// The case type editor's custom fields: one row per field definition (chalicelib/domain/custom_fields.py),
// showing only the settings its type takes (values for an enum, bounds for numbers, length and pattern for text).
import { h } from "../../dom.js";
import { checkbox, labelled, number, section, text, words } from "./kit.js";
import { rowList } from "./rows.js";

const TYPES = [["string", "Short text"], ["text", "Long text"], ["integer", "Whole number"], ["number", "Number"],
  ["money", "Amount of money"], ["date", "Date"], ["boolean", "Yes / no"], ["enum", "One of a list"]];
const NUMERIC = ["integer", "number", "money"];
const TEXTUAL = ["string", "text"];

export function fieldDefinitionsSection(errors, type) {
  const list = rowList({
    noun: "Field", addText: "Add a field", empty: "Cases of this type have no custom fields.", values: type.fields || [],
    makeRow: (definition, index) => definitionRow(errors, definition || {}, index),
  });
  return {
    element: section("Custom fields", "What a case of the type records beyond the fixed fields; the open-a-case form asks for them.", list.element),
    read(body) { body.fields = list.read(); },
  };
}

function definitionRow(errors, definition, index) {
  const path = (name) => () => `fields[${index()}].${name}`;
  const input = (value, attrs = {}) => h("input", { value: value ?? "", autocomplete: "off", ...attrs });
  const name = input(definition.name, { placeholder: "e.g. serialNumber" });
  const label = input(definition.label, { maxlength: 100 });
  const kind = h("select", {}, TYPES.map(([value, shown]) => h("option", { value, selected: value === (definition.type || "string") }, shown)));
  const required = checkbox(errors, path("required"), "Required", definition.required);
  const pii = checkbox(errors, path("pii"), "Personal data (never leaves the system)", definition.pii);
  const values = input((definition.enum || []).join(", "), { placeholder: "e.g. minor, major" });
  const min = input(definition.min, { inputmode: "decimal" });
  const max = input(definition.max, { inputmode: "decimal" });
  const maxLength = input(definition.maxLength, { inputmode: "numeric" });
  const pattern = input(definition.pattern, { class: "mono" });
  const help = input(definition.help, { maxlength: 500 });
  const enumGroup = h("div", { class: "row-fields" },
    labelled(errors, path("enum"), "Values", values, { hint: "Separate the values with commas." }));
  const numericGroup = h("div", { class: "row-fields" }, labelled(errors, path("min"), "Minimum", min), labelled(errors, path("max"), "Maximum", max));
  const textGroup = h("div", { class: "row-fields" },
    labelled(errors, path("maxLength"), "Longest (characters)", maxLength), labelled(errors, path("pattern"), "Pattern (regular expression)", pattern));
  const showSettings = () => {
    enumGroup.hidden = kind.value !== "enum";
    numericGroup.hidden = !NUMERIC.includes(kind.value);
    textGroup.hidden = !TEXTUAL.includes(kind.value);
  };
  kind.addEventListener("change", showSettings);
  showSettings();
  return {
    element: h("div", { class: "field-definition" },
      h("div", { class: "row-fields" },
        labelled(errors, path("name"), "Name", name, { hint: "Its key in a case's fields." }),
        labelled(errors, path("label"), "Label", label), labelled(errors, path("type"), "Type", kind)),
      h("div", { class: "checks-row" }, required.element, pii.element),
      enumGroup, numericGroup, textGroup,
      labelled(errors, path("help"), "Help", help, { hint: "Shown beside the input on the open-a-case form." })),
    read() {
      const out = { name: text(name) || "", label: text(label) || "", type: kind.value, required: required.input.checked, pii: pii.input.checked };
      if (kind.value === "enum") out.enum = words(values);
      if (NUMERIC.includes(kind.value)) Object.assign(out, defined({ min: number(min), max: number(max) }));
      if (TEXTUAL.includes(kind.value)) Object.assign(out, defined({ maxLength: number(maxLength), pattern: text(pattern) }));
      if (text(help)) out.help = text(help);
      return out;
    },
  };
}

function defined(values) {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}
