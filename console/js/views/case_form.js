// Open a case. The API validates; its messages (error.details[].field) are shown next to the fields they
// name, and listed in a summary that takes the focus. The chosen type's custom fields get their own inputs.
import { announce, h, replace } from "../dom.js";
import { pageHeader } from "./common.js";
import { customFieldInputs } from "./custom_field_inputs.js";
import { FormErrors } from "./form_errors.js";

const PRIORITIES = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];
const LABELS = { title: "Title", description: "Description", caseType: "Case type", priority: "Priority", customerId: "Customer ID",
  "compensation.amount": "Compensation amount", "compensation.currency": "Currency", tags: "Tags" };

export function caseForm(ctx) {
  let idempotencyKey = crypto.randomUUID();
  const errors = new FormErrors("The case was not opened.");
  const typeHint = h("p", { class: "hint", id: "caseType-hint" });
  const types = new Map();
  const details = new Map(); // id → the type's current version (GET /case-types/{id}), with its fields
  const customArea = h("div", { "aria-live": "polite" });
  let custom = null;
  const controls = {
    title: h("input", { id: "title", name: "title", autocomplete: "off", maxlength: 250 }),
    description: h("textarea", { id: "description", name: "description", rows: 4 }),
    caseType: h("select", { id: "caseType", name: "caseType", "aria-describedby": "caseType-hint" }, h("option", { value: "" }, "Choose a type…")),
    priority: h("select", { id: "priority", name: "priority" }, PRIORITIES.map((p) => h("option", { value: p, selected: p === "MEDIUM" }, p.charAt(0) + p.slice(1).toLowerCase()))),
    customerId: h("input", { id: "customerId", name: "customerId", autocomplete: "off", placeholder: "e.g. CUST-1001" }),
    "compensation.amount": h("input", { id: "compensation.amount", name: "compensation.amount", inputmode: "decimal", placeholder: "0.00" }),
    "compensation.currency": h("input", { id: "compensation.currency", name: "compensation.currency", value: "EUR", maxlength: 3, class: "input-short" }),
    tags: h("input", { id: "tags", name: "tags", autocomplete: "off", placeholder: "water, urgent" }),
  };
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Open case");

  ctx.api.all("/case-types").then((list) => {
    for (const type of list.items.filter((t) => !t.retired)) {  // a retired type opens no new cases
      types.set(type.id, type);
      controls.caseType.append(h("option", { value: type.id }, type.name));
    }
  }).catch((error) => errors.show({ message: `The case types could not be loaded: ${error.message}`, details: [] }));

  controls.caseType.addEventListener("change", async () => {
    const id = controls.caseType.value;
    const type = types.get(id);
    typeHint.textContent = type ? describeType(type) : "";
    custom = null;
    replace(customArea);
    if (!type) return;
    try {
      if (!details.has(id)) details.set(id, await ctx.api.get(`/case-types/${encodeURIComponent(id)}`));
    } catch (error) {
      replace(customArea, h("p", { class: "alert alert-error", role: "alert" }, `This type's fields could not be loaded: ${error.message}`));
      return;
    }
    const detail = details.get(id);
    if (controls.caseType.value !== id || !(detail.fields || []).length) return; // chosen another meanwhile, or no fields
    custom = customFieldInputs(errors, detail.fields, Object.keys(detail.currencies || {})[0]);
    replace(customArea, h("fieldset", {}, h("legend", {}, `Details of ${detail.name}`), custom.element));
  });

  function field(name, text, { hint, optional } = {}) {
    const control = controls[name];
    const hintEl = hint ? h("p", { class: "hint", id: `${name}-hint` }, hint) : null;
    if (hintEl) control.setAttribute("aria-describedby", [`${name}-hint`, control.getAttribute("aria-describedby")].filter(Boolean).join(" "));
    const message = errors.target(name === "compensation.amount" ? "compensation" : name, control, LABELS[name]);
    return h("div", { class: "field", dataset: { field: name } },
      h("label", { for: control.id }, text, optional ? h("span", { class: "optional" }, " (optional)") : null),
      hintEl, control, name === "caseType" ? typeHint : null, message);
  }

  function body() {
    const value = (name) => controls[name].value.trim();
    const payload = {
      title: value("title"), caseType: value("caseType"), priority: value("priority"), customerId: value("customerId"),
    };
    if (value("description")) payload.description = value("description");
    if (value("compensation.amount")) payload.compensation = { amount: value("compensation.amount"), currency: value("compensation.currency") };
    if (value("tags")) payload.tags = value("tags").split(",").map((t) => t.trim()).filter(Boolean);
    if (custom) payload.fields = custom.read();
    return payload;
  }

  // An empty fixed field fails the API's length or pattern rule: say what the person has to do. (A custom
  // field's own message already says so.)
  function reword(detail, target) {
    const fixed = target && Object.values(controls).includes(target.control) && target.control !== controls["compensation.amount"];
    return fixed && target.control.value.trim() === "" ? "this field is required" : detail.issue;
  }

  async function onSubmit(event) {
    event.preventDefault();
    errors.clear();
    submit.disabled = true;
    submit.textContent = "Opening…";
    try {
      const created = await ctx.api.post("/cases", body(), { "Idempotency-Key": idempotencyKey });
      announce(`Case ${created.number} opened`);
      ctx.navigate(`/cases/${encodeURIComponent(created.id)}`);
    } catch (error) {
      if (error.status) idempotencyKey = crypto.randomUUID(); // the server answered: a corrected form is a new request
      errors.show(error, reword);
    } finally {
      submit.disabled = false;
      submit.textContent = "Open case";
    }
  }

  return h("section", { class: "page page-narrow" },
    pageHeader("Open a case", "The workflow starts at once: tasks are assigned, documents and approvals asked for as the case type needs."),
    h("form", { class: "panel form", onsubmit: onSubmit, novalidate: true, "aria-label": "New case" },
      errors.summary,
      field("title", "Title"),
      field("description", "Description", { optional: true }),
      h("div", { class: "field-row" }, field("caseType", "Case type"), field("priority", "Priority")),
      field("customerId", "Customer ID", { hint: "The customer's id in the customer directory." }),
      customArea,
      h("fieldset", {}, h("legend", {}, "Compensation asked for", h("span", { class: "optional" }, " (optional)")),
        h("div", { class: "field-row" },
          field("compensation.amount", "Amount", { hint: "A decimal with at most 2 places, e.g. 1250.00." }),
          field("compensation.currency", "Currency", { hint: "ISO 4217 code, e.g. EUR." }))),
      field("tags", "Tags", { optional: true, hint: "Separate tags with commas." }),
      h("div", { class: "form-actions" }, submit, h("a", { class: "btn btn-ghost", href: "#/cases" }, "Cancel"))));
}

function describeType(type) {
  const parts = [];
  if (type.requiredDocuments && type.requiredDocuments.length) parts.push(`needs documents: ${type.requiredDocuments.join(", ")}`);
  if (type.approvalRequired) parts.push("needs an approval");
  const caps = Object.entries(type.currencies || {}).filter(([, rules]) => rules.cap).map(([code, rules]) => `${rules.cap} ${code}`);
  if (caps.length) parts.push(`compensation capped at ${caps.join(" / ")}`);
  if (type.team) parts.push(`handled by team ${type.team}`);
  return parts.length ? `This type ${parts.join("; ")}.` : "No documents or approval needed unless compensation is asked for.";
}
