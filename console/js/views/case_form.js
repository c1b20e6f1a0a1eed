// Open a case. The API validates; its messages (error.details[].field) are shown next to the fields they
// name, and listed in a summary that takes the focus.
import { announce, h, replace } from "../dom.js";
import { pageHeader } from "./common.js";

const PRIORITIES = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];

export function caseForm(ctx) {
  let idempotencyKey = crypto.randomUUID();
  const summary = h("div", { class: "alert alert-error", role: "alert", tabindex: "-1", hidden: true });
  const typeHint = h("p", { class: "hint", id: "caseType-hint" });
  const types = new Map();
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
  const errors = Object.fromEntries(Object.keys(controls).map((name) => [name, h("p", { class: "field-error", id: `${name}-error`, hidden: true })]));
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Open case");

  ctx.api.all("/case-types").then((list) => {
    for (const type of list.items.filter((t) => !t.retired)) {  // a retired type opens no new cases
      types.set(type.id, type);
      controls.caseType.append(h("option", { value: type.id }, type.name));
    }
  }).catch((error) => showErrors({ message: `The case types could not be loaded: ${error.message}`, details: [] }));

  controls.caseType.addEventListener("change", () => {
    const type = types.get(controls.caseType.value);
    typeHint.textContent = type ? describeType(type) : "";
  });

  function field(name, text, { hint, optional } = {}) {
    const control = controls[name];
    const hintEl = hint ? h("p", { class: "hint", id: `${name}-hint` }, hint) : null;
    control.setAttribute("aria-describedby", [hintEl ? `${name}-hint` : null, control.getAttribute("aria-describedby"), `${name}-error`].filter(Boolean).join(" "));
    return h("div", { class: "field", dataset: { field: name } },
      h("label", { for: control.id }, text, optional ? h("span", { class: "optional" }, " (optional)") : null),
      hintEl, control, name === "caseType" ? typeHint : null, errors[name]);
  }

  function body() {
    const value = (name) => controls[name].value.trim();
    const payload = {
      title: value("title"), caseType: value("caseType"), priority: value("priority"), customerId: value("customerId"),
    };
    if (value("description")) payload.description = value("description");
    if (value("compensation.amount")) payload.compensation = { amount: value("compensation.amount"), currency: value("compensation.currency") };
    if (value("tags")) payload.tags = value("tags").split(",").map((t) => t.trim()).filter(Boolean);
    return payload;
  }

  function clearErrors() {
    summary.hidden = true;
    for (const [name, el] of Object.entries(errors)) {
      el.hidden = true;
      el.textContent = "";
      controls[name].removeAttribute("aria-invalid");
    }
  }

  function controlFor(fieldPath) {
    if (controls[fieldPath]) return fieldPath;
    const base = fieldPath.replace(/\.\d+$/, "");
    if (controls[base]) return base;
    if (fieldPath === "compensation") return "compensation.amount";
    return null;
  }

  function showErrors(error) {
    const listed = [];
    for (let detail of error.details || []) {
      const name = controlFor(detail.field || "");
      // An empty field fails the API's length or pattern rule: say what the person has to do.
      if (name && !controls[name].value.trim() && name !== "compensation.amount") detail = { ...detail, issue: "this field is required" };
      if (name) {
        errors[name].hidden = false;
        errors[name].textContent = errors[name].textContent ? `${errors[name].textContent}; ${detail.issue}` : capitalise(detail.issue);
        controls[name].setAttribute("aria-invalid", "true");
      }
      listed.push(h("li", {}, name
        ? h("a", { href: `#${name}`, onclick: (event) => { event.preventDefault(); controls[name].focus(); } }, `${fieldLabel(name)}: ${detail.issue}`)
        : `${detail.field}: ${detail.issue}`));
    }
    replace(summary, h("strong", {}, listed.length ? "The case was not opened. Please correct:" : "The case was not opened."),
      listed.length ? h("ul", {}, listed) : h("p", {}, error.message));
    summary.hidden = false;
    summary.focus();
  }

  async function onSubmit(event) {
    event.preventDefault();
    clearErrors();
    submit.disabled = true;
    submit.textContent = "Opening…";
    try {
      const created = await ctx.api.post("/cases", body(), { "Idempotency-Key": idempotencyKey });
      announce(`Case ${created.number} opened`);
      ctx.navigate(`/cases/${encodeURIComponent(created.id)}`);
    } catch (error) {
      if (error.status) idempotencyKey = crypto.randomUUID(); // the server answered: a corrected form is a new request
      showErrors(error);
    } finally {
      submit.disabled = false;
      submit.textContent = "Open case";
    }
  }

  return h("section", { class: "page page-narrow" },
    pageHeader("Open a case", "The workflow starts at once: tasks are assigned, documents and approvals asked for as the case type needs."),
    h("form", { class: "panel form", onsubmit: onSubmit, novalidate: true, "aria-label": "New case" },
      summary,
      field("title", "Title"),
      field("description", "Description", { optional: true }),
      h("div", { class: "field-row" }, field("caseType", "Case type"), field("priority", "Priority")),
      field("customerId", "Customer ID", { hint: "The customer's id in the customer directory." }),
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

function fieldLabel(name) {
  return { caseType: "Case type", customerId: "Customer ID", "compensation.amount": "Compensation amount", "compensation.currency": "Currency" }[name]
    || capitalise(name);
}

function capitalise(text) {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}
