// Pieces the admin editors share: a labelled control that shows the API's message for its path, a checkbox,
// a section panel, and values read back as the API takes them.
import { h, uid } from "../../dom.js";

export const PRIORITIES = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];

// `path`: the API's name for the value (a function while the control sits in a row that can move).
export function labelled(errors, path, text, control, { hint, label } = {}) {
  if (!control.id) control.id = uid("input");
  const hintEl = hint ? h("p", { class: "hint", id: `${control.id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  const message = errors.target(path, control, label);
  return h("div", { class: "field" }, h("label", { for: control.id }, text), hintEl, control, message);
}

export function checkbox(errors, path, text, checked) {
  const input = h("input", { type: "checkbox", id: uid("check"), checked: Boolean(checked) });
  const message = errors.target(path, input);
  return { input, element: h("div", { class: "check" }, input, h("label", { for: input.id }, text), message) };
}

export function section(title, intro, ...content) {
  const id = uid("section");
  return h("section", { class: "panel", "aria-labelledby": id },
    h("h2", { id }, title), intro ? h("p", { class: "hint section-intro" }, intro) : null, content);
}

export function text(control) {
  const value = control.value.trim();
  return value === "" ? undefined : value;
}

// A number when it reads as one; otherwise the text as typed, so that the API names what is wrong with it.
export function number(control) {
  const value = text(control);
  if (value === undefined) return undefined;
  return /^-?\d{1,15}(\.\d+)?$/.test(value) ? Number(value) : value;
}

export function words(control) {
  return control.value.split(",").map((w) => w.trim()).filter(Boolean);
}

export function isAdmin(session) {
  return Boolean(session.user && session.user.groups.includes("admin"));
}
