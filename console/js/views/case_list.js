// The cases the person may see, newest first: the API's filters (kept in the URL, so a filtered list can
// be bookmarked), a quick search over the loaded rows, and "Load more" through the API's cursor.
import { announce, errorBox, h, replace, spinner } from "../dom.js";
import { badge, label, timeElement } from "../format.js";
import { dueCell, pageHeader } from "./common.js";

const STATUSES = ["NEW", "OPEN", "IN_PROGRESS", "PENDING_DOCUMENTS", "PENDING_APPROVAL", "APPROVED", "REJECTED",
  "COMPENSATION", "RESOLVED", "CLOSED", "REOPENED", "NEEDS_ATTENTION"];
const PRIORITIES = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];
const FILTERS = ["status", "priority", "caseType", "assignee", "customerId"];

export function caseList(ctx, params, query) {
  const filters = Object.fromEntries(FILTERS.map((name) => [name, query.get(name) || ""]));
  const rows = [];
  let cursor = null;
  const tbody = h("tbody");
  const results = h("div", { class: "results" });
  const loadingArea = h("div");
  const count = h("p", { class: "muted small", role: "status" });
  const more = h("button", { type: "button", class: "btn btn-secondary", hidden: true }, "Load more");
  const search = h("input", { id: "case-search", type: "search", placeholder: "Number, title or customer", autocomplete: "off" });
  const typeSelect = select("caseType", "Type", [["", "Any type"]], filters.caseType);

  function select(name, text, options, value) {
    return h("select", { id: `filter-${name}`, name }, options.map(([v, t]) => h("option", { value: v, selected: v === value }, t)));
  }

  const form = h("form", { class: "filters", role: "search", "aria-label": "Filter cases", onsubmit: (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const next = new URLSearchParams();
    for (const name of FILTERS) if (data.get(name)) next.set(name, String(data.get(name)).trim());
    ctx.navigate(`/cases${next.toString() ? `?${next}` : ""}`);
  } },
    field("filter-status", "Status", select("status", "Status", [["", "Any status"], ...STATUSES.map((s) => [s, label(s)])], filters.status)),
    field("filter-priority", "Priority", select("priority", "Priority", [["", "Any priority"], ...PRIORITIES.map((p) => [p, label(p)])], filters.priority)),
    field("filter-caseType", "Type", typeSelect),
    field("filter-assignee", "Assignee", select("assignee", "Assignee", [["", "Anyone"], ["me", "Me"]], filters.assignee)),
    field("filter-customerId", "Customer", h("input", { id: "filter-customerId", name: "customerId", value: filters.customerId, placeholder: "e.g. CUST-1001" })),
    h("div", { class: "filter-buttons" },
      h("button", { type: "submit", class: "btn btn-primary" }, "Apply filters"),
      h("a", { class: "btn btn-ghost", href: "#/cases" }, "Clear")));

  ctx.api.all("/case-types").then((types) => {
    for (const type of types.items) typeSelect.append(h("option", { value: type.id, selected: type.id === filters.caseType }, type.name));
  }).catch(() => { /* the filter still takes the id typed in the URL */ });

  function visibleRows() {
    const term = search.value.trim().toLowerCase();
    return rows.filter((c) => !term || [c.number, c.title, c.customerId, c.assignee || ""].some((v) => v.toLowerCase().includes(term)));
  }

  function renderRows() {
    const shown = visibleRows();
    replace(tbody, shown.map((c) => h("tr", {},
      h("td", {}, h("a", { class: "mono", href: `#/cases/${encodeURIComponent(c.id)}` }, c.number)),
      h("td", { class: "cell-title" }, h("a", { href: `#/cases/${encodeURIComponent(c.id)}` }, c.title)),
      h("td", {}, badge(c.status, { prefix: "Status" })),
      h("td", {}, badge(c.priority, { prefix: "Priority" })),
      h("td", {}, label(c.caseType)),
      h("td", { class: "nowrap" }, c.customerId),
      h("td", { class: "nowrap" }, c.assignee || h("span", { class: "muted" }, c.team ? `team ${c.team}` : "—")),
      h("td", {}, dueCell(c.dueAt, !["CLOSED", "RESOLVED"].includes(c.status))),
      h("td", {}, timeElement(c.createdAt)))));
    if (!rows.length) replace(results, h("p", { class: "empty" }, "No cases match these filters."));
    else if (!results.contains(tbody.parentElement)) replace(results, table);
    count.textContent = search.value.trim()
      ? `${shown.length} of ${rows.length} loaded cases match “${search.value.trim()}”.`
      : `${rows.length} case${rows.length === 1 ? "" : "s"} loaded${cursor ? "; more are available" : ""}.`;
  }

  const table = h("div", { class: "table-wrap" }, h("table", {},
    h("caption", { class: "visually-hidden" }, "Cases, newest first"),
    h("thead", {}, h("tr", {}, ["Number", "Title", "Status", "Priority", "Type", "Customer", "With", "Due", "Opened"].map((c) => h("th", { scope: "col" }, c)))),
    tbody));

  async function loadPage() {
    more.hidden = true;
    replace(loadingArea, spinner("Loading cases…"));
    results.setAttribute("aria-busy", "true");
    try {
      const query = { ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)), limit: 25, cursor };
      const page = await ctx.api.get("/cases", query);
      rows.push(...page.items);
      cursor = page.nextCursor || null;
      renderRows();
      more.hidden = !cursor;
      announce(`${rows.length} cases loaded`);
    } catch (error) {
      replace(results, errorBox(error, { retry: loadPage }));
    } finally {
      replace(loadingArea);
      results.removeAttribute("aria-busy");
    }
  }

  more.addEventListener("click", loadPage);
  search.addEventListener("input", renderRows);
  loadPage();

  return h("section", { class: "page" },
    pageHeader("Cases", "Every case you may see, newest first.",
      ctx.session.can("caseworker", "supervisor") ? h("a", { class: "btn btn-primary", href: "#/cases/new" }, "New case") : null),
    h("div", { class: "panel" }, form,
      h("div", { class: "search-row" }, h("label", { for: "case-search" }, "Search these results"), search, count)),
    h("div", { class: "panel panel-flush" }, results, loadingArea),
    h("div", { class: "load-more" }, more));
}

function field(id, text, control) {
  return h("div", { class: "field" }, h("label", { for: id }, text), control);
}
