// Building the page without a framework: h() makes elements, text is always set as text (never as HTML),
// so nothing the API returns can inject markup.

export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith("svg:");
  const el = svg ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4)) : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "class") el.setAttribute("class", Array.isArray(value) ? value.filter(Boolean).join(" ") : value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name === "value" && !svg) el.value = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

let idCounter = 0;
export function uid(prefix = "id") {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

// One polite live region for the whole page: screen readers hear loading and success messages.
export function announce(message) {
  const region = document.getElementById("announcer");
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => { region.textContent = message; }, 30);
}

export function spinner(label = "Loading…") {
  return h("div", { class: "loading", role: "status" }, h("span", { class: "spinner", "aria-hidden": "true" }), label);
}

export function errorBox(error, { retry } = {}) {
  const message = error && error.message ? error.message : String(error);
  return h("div", { class: "alert alert-error", role: "alert" },
    h("strong", {}, error && error.status ? `${error.title || "Something went wrong"} ` : "Something went wrong "),
    h("span", {}, message),
    error && error.requestId ? h("span", { class: "muted" }, ` (request ${error.requestId})`) : null,
    retry ? h("button", { type: "button", class: "btn btn-small", onclick: retry }, "Try again") : null);
}

// Renders `load()`'s result into `container` with a loading state first and a visible error on failure.
export async function loadInto(container, load, render, label) {
  replace(container, spinner(label));
  container.setAttribute("aria-busy", "true");
  try {
    const value = await load();
    replace(container, render(value));
  } catch (error) {
    replace(container, errorBox(error, { retry: () => loadInto(container, load, render, label) }));
  } finally {
    container.removeAttribute("aria-busy");
  }
}
