// The customer view merged from the data mesh: each field with its source and age. When the view cannot
// be had (no such customer, the mesh not deployed, the network down) the case page says so and goes on.
import { errorBox, h, replace, spinner } from "../../dom.js";
import { ago, badge, duration, label } from "../../format.js";

export function customerPanel(ctx, customerId) {
  const body = h("div", { "aria-live": "polite" });
  const panel = h("section", { class: "panel", id: "customer", "aria-labelledby": "customer-heading" },
    h("h2", { id: "customer-heading" }, "Customer"),
    h("p", { class: "muted small" }, "ID ", h("span", { class: "mono" }, customerId)),
    body);

  async function load() {
    replace(body, spinner("Loading customer data…"));
    body.setAttribute("aria-busy", "true");
    try {
      const view = await ctx.api.get(`/customers/${encodeURIComponent(customerId)}`);
      replace(body, renderView(view, load));
    } catch (error) {
      replace(body, unavailable(error, load));
    } finally {
      body.removeAttribute("aria-busy");
    }
  }
  load();
  return panel;
}

function unavailable(error, retry) {
  const why = error.status === 404 ? "The customer directory has no record of this customer."
    : error.status === 501 ? "The customer directory is not available in this deployment yet."
      : error.status ? `The customer directory answered: ${error.message}` : "The customer directory cannot be reached.";
  if (error.status && ![404, 501, 502, 503, 504].includes(error.status)) return errorBox(error, { retry });
  return h("div", { class: "unavailable", role: "status" },
    h("strong", {}, "Customer data unavailable"),
    h("p", { class: "muted small" }, why, " The case itself is not affected."),
    h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: retry }, "Try again"));
}

// Accepts the view's fields as an object ({name: {value, source, ...}}) or a list ([{name, value, ...}]).
export function customerFields(view) {
  const raw = view.fields || view.attributes || {};
  const entries = Array.isArray(raw) ? raw.map((f) => [f.name || f.field, f]) : Object.entries(raw);
  return entries.map(([name, field]) => {
    const value = field && typeof field === "object" && "value" in field ? field.value : field;
    const meta = field && typeof field === "object" ? field : {};
    const asOf = meta.asOf || meta.updatedAt || meta.fetchedAt || meta.observedAt || null;
    const ageSeconds = meta.ageSeconds ?? (typeof meta.age === "number" ? meta.age : null);
    return {
      name, value, source: meta.source || meta.sourceId || meta.product || null, asOf, ageSeconds,
      stale: Boolean(meta.stale), staleReason: meta.staleReason || null,
    };
  });
}

const VIEW_UNAVAILABLE = {
  NOT_FOUND: "No customer product knows this customer.",
  UNAVAILABLE: "No customer product answered, and nothing is known from before.",
  NOT_LOOKED_UP: "This id is not one the customer directory knows.",
};

function renderView(view, retry) {
  const fields = customerFields(view);
  const sources = Array.isArray(view.sources) ? view.sources : [];
  if (!fields.length && VIEW_UNAVAILABLE[view.status]) {
    return h("div", {}, h("div", { class: "unavailable", role: "status" },
      h("strong", {}, "Customer data unavailable"),
      h("p", { class: "muted small" }, VIEW_UNAVAILABLE[view.status], " The case itself is not affected."),
      h("button", { type: "button", class: "btn btn-small btn-ghost", onclick: retry }, "Try again")), sourceList(sources));
  }
  const stale = view.status === "PARTIAL" || fields.some((f) => f.stale) || sources.some((s) => s.stale || (s.status && !["OK", "FRESH", "NOT_FOUND"].includes(s.status)));
  return h("div", {},
    stale ? h("p", { class: "alert alert-warn small" }, "Some values are stale: a source did not answer, so its last known value is shown.") : null,
    fields.length ? h("dl", { class: "customer-fields" }, fields.map((f) => [
      h("dt", {}, label(f.name.replace(/([a-z])([A-Z])/g, "$1_$2"))),
      h("dd", {},
        h("span", { class: "value" }, display(f.value)),
        h("span", { class: ["provenance", f.stale ? "provenance-stale" : null] },
          [f.source, f.ageSeconds !== null ? `${duration(f.ageSeconds)} old` : f.asOf ? ago(f.asOf) : null, f.stale ? `stale${f.staleReason ? ` (${label(f.staleReason).toLowerCase()})` : ""}` : null]
            .filter(Boolean).join(" · "))),
    ])) : h("p", { class: "empty" }, "No customer fields were returned."),
    sourceList(sources),
    view.assembledAt ? h("p", { class: "muted small" }, "Assembled ", ago(view.assembledAt)) : null);
}

function sourceList(sources) {
  if (!sources.length) return null;
  return h("div", { class: "sources" }, h("h3", {}, "Sources"),
    h("ul", {}, sources.map((s) => h("li", {},
      h("span", { class: "source-name" }, s.name || s.product || s.id || "source"), " ",
      s.status ? badge(s.status) : null, " ",
      h("span", { class: "muted small" }, [
        s.ageSeconds !== undefined && s.ageSeconds !== null ? `data ${duration(s.ageSeconds)} old` : s.asOf ? `data from ${ago(s.asOf)}` : null,
        s.freshnessSlaSeconds ? `fresh within ${duration(s.freshnessSlaSeconds)}` : s.freshness || null,
        s.error || null,
      ].filter(Boolean).join(" · "))))));
}

function display(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
