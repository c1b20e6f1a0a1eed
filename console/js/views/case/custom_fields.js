// The case's custom fields, labelled as the type version the case was opened under defines them.
import { h, replace } from "../../dom.js";
import { money } from "../../format.js";

export function customFieldsPanel(ctx) {
  const body = h("div", {});
  const element = h("section", { class: "panel", id: "case-fields", "aria-labelledby": "case-fields-heading", hidden: true },
    h("div", { class: "panel-head" }, h("h2", { id: "case-fields-heading" }, "Details"), h("span", { class: "muted small version-note" })), body);
  let definitions = null; // the promise of [type version, its field definitions]

  async function update(record) {
    const values = record.fields || {};
    element.hidden = !Object.keys(values).length;
    if (element.hidden) return;
    definitions = definitions || definitionsOf(ctx, record.caseType, record.caseTypeVersion);
    const [version, fields] = await definitions;
    element.querySelector(".version-note").textContent = version ? `as defined by version ${version} of the type` : "";
    const known = fields.filter((f) => f.name in values);
    const unknown = Object.keys(values).filter((name) => !fields.some((f) => f.name === name));
    replace(body, h("dl", { class: "meta custom-values" },
      known.map((f) => item(f.label, show(f.type, values[f.name]), f.name)),
      unknown.map((name) => item(name, show(null, values[name]), name))));
  }
  return { element, update };
}

// The version's definitions; when they cannot be read, the current version's (same labels, most often),
// or none (the values are shown by name).
async function definitionsOf(ctx, typeId, version) {
  const path = `/case-types/${encodeURIComponent(typeId)}`;
  const pinned = version ? await ctx.api.get(`${path}/versions/${encodeURIComponent(version)}`).catch(() => null) : null;
  const type = pinned || await ctx.api.get(path).catch(() => null);
  return [version, (type && type.fields) || []];
}

function item(name, value, key) {
  return h("div", { class: "meta-item", dataset: { field: key } }, h("dt", {}, name), h("dd", {}, value));
}

function show(type, value) {
  if (value === null || value === undefined || value === "") return "—";
  if (type === "boolean" || typeof value === "boolean") return value ? "Yes" : "No";
  if (type === "money" || (typeof value === "object" && "amount" in value)) return money(value.amount, value.currency);
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}
