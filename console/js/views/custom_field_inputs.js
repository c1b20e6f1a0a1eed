// The inputs for a case type's custom fields (its `fields` definitions): one control per field, by type,
// with its label, help and required mark; `read()` gives the case's `fields` object. Values are sent as the
// person typed them when they do not parse, so the API's message (`fields.<name>`) says what is wrong.
import { h } from "../dom.js";

const PLACEHOLDERS = { integer: "e.g. 3", number: "e.g. 2.5" };

export function customFieldInputs(errors, definitions, defaultCurrency = "EUR") {
  const readers = [];
  const element = h("div", { class: "custom-fields" }, definitions.map((definition) => {
    const { control, read, extra } = inputFor(definition, defaultCurrency);
    readers.push([definition.name, read]);
    return fieldBox(errors, definition, control, extra);
  }));
  return {
    element,
    read() {
      const values = {};
      for (const [name, read] of readers) {
        const value = read();
        if (value !== undefined) values[name] = value;
      }
      return values;
    },
  };
}

function fieldBox(errors, definition, control, extra) {
  const help = [definition.help && definition.help.replace(/[^.!?]$/, "$&."), bounds(definition)].filter(Boolean).join(" ");
  const hint = help ? h("p", { class: "hint", id: `${control.id}-hint` }, help) : null;
  if (hint) control.setAttribute("aria-describedby", hint.id);
  if (definition.required) control.setAttribute("aria-required", "true");
  const message = errors.target(`fields.${definition.name}`, control, definition.label);
  return h("div", { class: "field", dataset: { field: `fields.${definition.name}` } },
    h("label", { for: control.id }, definition.label,
      h("span", { class: definition.required ? "required" : "optional" }, definition.required ? " (required)" : " (optional)")),
    hint, extra ? h("div", { class: "money-input" }, control, extra) : control, message);
}

function bounds({ min, max }) {
  if (min !== null && min !== undefined && max !== null && max !== undefined) return `From ${min} to ${max}.`;
  if (min !== null && min !== undefined) return `At least ${min}.`;
  if (max !== null && max !== undefined) return `At most ${max}.`;
  return "";
}

function inputFor(definition, defaultCurrency) {
  const id = `field-${definition.name}`;
  const text = (control) => () => (control.value.trim() === "" ? undefined : control.value.trim());
  const numeric = (control, form) => () => {
    const raw = control.value.trim();
    if (raw === "") return undefined;
    return form.test(raw) ? Number(raw) : raw;
  };
  switch (definition.type) {
    case "text": {
      const control = h("textarea", { id, rows: 3, maxlength: definition.maxLength });
      return { control, read: text(control) };
    }
    case "integer": {
      const control = h("input", { id, inputmode: "numeric", placeholder: PLACEHOLDERS.integer });
      return { control, read: numeric(control, /^-?\d{1,15}$/) };
    }
    case "number": {
      const control = h("input", { id, inputmode: "decimal", placeholder: PLACEHOLDERS.number });
      return { control, read: numeric(control, /^-?\d{1,15}(\.\d+)?$/) };
    }
    case "money": {
      const control = h("input", { id, inputmode: "decimal", placeholder: "0.00" });
      const currency = h("input", { id: `${id}-currency`, value: defaultCurrency, maxlength: 3, class: "input-short", "aria-label": `${definition.label} currency` });
      return {
        control, extra: currency,
        read: () => (control.value.trim() === "" ? undefined : { amount: control.value.trim(), currency: currency.value.trim() }),
      };
    }
    case "date": {
      const control = h("input", { id, type: "date" });
      return { control, read: text(control) };
    }
    case "boolean": {
      const control = h("select", { id }, h("option", { value: "" }, "Not set"), h("option", { value: "true" }, "Yes"), h("option", { value: "false" }, "No"));
      return { control, read: () => (control.value === "" ? undefined : control.value === "true") };
    }
    case "enum": {
      const control = h("select", { id }, h("option", { value: "" }, "Choose…"), (definition.enum || []).map((v) => h("option", { value: v }, v)));
      return { control, read: text(control) };
    }
    default: {
      const control = h("input", { id, autocomplete: "off", maxlength: definition.maxLength });
      return { control, read: text(control) };
    }
  }
}
