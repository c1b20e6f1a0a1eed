// Pieces several pages share: page headers, tables, empty states, case links, task actions.
import { announce, errorBox, h, replace } from "../dom.js";
import { badge, timeElement } from "../format.js";

export function pageHeader(title, subtitle, ...actions) {
  return h("div", { class: "page-header" },
    h("div", {}, h("h1", { tabindex: "-1" }, title), subtitle ? h("p", { class: "muted" }, subtitle) : null),
    actions.length ? h("div", { class: "page-actions" }, actions) : null);
}

export function table(caption, columns, rows, { empty = "Nothing here.", captionHidden = false } = {}) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h("div", { class: "table-wrap" },
    h("table", {},
      h("caption", { class: captionHidden ? "visually-hidden" : null }, caption),
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows)));
}

export function caseLink(caseId, cases) {
  const known = cases && cases.get(caseId);
  if (cases && !known) return h("span", { class: "mono" }, caseId); // not visible to this person
  return h("a", { href: `#/cases/${encodeURIComponent(caseId)}` },
    known ? h("span", {}, h("span", { class: "mono" }, known.number), " ", known.title) : caseId);
}

// The cases a list of tasks or approvals refers to, read once each (missing ones are left out).
export async function casesById(api, ids) {
  const unique = [...new Set(ids)].slice(0, 50);
  const cases = await Promise.all(unique.map((id) => api.get(`/cases/${encodeURIComponent(id)}`).catch(() => null)));
  return new Map(cases.filter(Boolean).map((c) => [c.id, c]));
}

export function dueCell(dueAt, open = true) {
  const overdue = open && dueAt && new Date(dueAt).getTime() < Date.now();
  return h("span", { class: overdue ? "overdue" : null }, timeElement(dueAt), overdue ? h("span", { class: "badge badge-bad" }, "Overdue") : null);
}

// A button that runs `action`, shows progress, and reports failure next to itself.
export function actionButton(text, action, { kind = "btn-secondary", busyText = "Working…", label } = {}) {
  const status = h("span", { class: "inline-error", role: "alert" });
  const button = h("button", { type: "button", class: `btn btn-small ${kind}`, "aria-label": label || null }, text);
  button.addEventListener("click", async () => {
    button.disabled = true;
    button.textContent = busyText;
    replace(status);
    try {
      await action();
    } catch (error) {
      replace(status, error.message);
      button.disabled = false;
      button.textContent = text;
    }
  });
  return h("span", { class: "action" }, button, status);
}

export function taskActions(ctx, task, onDone) {
  const user = ctx.session.user;
  if (task.status !== "OPEN") return badge(task.status);
  if (!task.assignee) {
    if (!ctx.session.can("caseworker", "supervisor")) return h("span", { class: "muted small" }, "In the queue");
    return actionButton("Claim", async () => {
      await ctx.api.post(`/tasks/${encodeURIComponent(task.id)}/claim`);
      announce(`Task “${task.title}” claimed`);
      onDone();
    }, { label: `Claim task ${task.title}` });
  }
  if (task.assignee === user.username || ctx.session.can("supervisor")) {
    return actionButton("Complete", async () => {
      await ctx.api.post(`/tasks/${encodeURIComponent(task.id)}/complete`, { outcome: "done" });
      announce(`Task “${task.title}” completed`);
      onDone();
    }, { kind: "btn-primary", busyText: "Completing…", label: `Complete task ${task.title}` });
  }
  return badge(task.status);
}

export { errorBox };
