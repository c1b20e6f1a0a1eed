// My work (my open tasks and the approvals waiting for me) and the team queue (tasks nobody has yet).
import { h, loadInto, replace } from "../dom.js";
import { label, money, timeElement } from "../format.js";
import { caseLink, casesById, dueCell, pageHeader, table, taskActions } from "./common.js";

export function inboxPage(ctx) {
  const user = ctx.session.user;
  const summary = h("div", { class: "stats", "aria-live": "polite" });
  const tasks = h("section", { class: "panel", "aria-labelledby": "tasks-heading" });
  const approvals = h("section", { class: "panel", "aria-labelledby": "approvals-heading" });
  const decides = ctx.session.can("approver");

  async function load() {
    const [taskList, approvalList] = await Promise.all([
      ctx.api.all("/tasks", { assignee: "me" }),
      decides ? ctx.api.all("/approvals") : Promise.resolve({ items: [] }),
    ]);
    const cases = await casesById(ctx.api, [...taskList.items, ...approvalList.items].map((item) => item.caseId));
    return { tasks: taskList.items, approvals: approvalList.items, cases };
  }

  function render(data) {
    const overdue = data.tasks.filter((t) => new Date(t.dueAt).getTime() < Date.now()).length;
    replace(summary,
      stat("Open tasks", data.tasks.length),
      stat("Overdue", overdue, overdue ? "bad" : null),
      decides ? stat("Approvals waiting", data.approvals.length, data.approvals.length ? "warn" : null) : null);
    replace(tasks,
      h("h2", { id: "tasks-heading" }, "My tasks"),
      table("My open tasks", ["Task", "Case", "Due", ""], data.tasks.map((task) => h("tr", {},
        h("td", {}, h("strong", {}, task.title), h("div", { class: "muted small" }, label(task.type))),
        h("td", {}, caseLink(task.caseId, data.cases)),
        h("td", {}, dueCell(task.dueAt)),
        h("td", { class: "cell-actions" }, taskActions(ctx, task, refresh)))),
      { empty: "No open tasks. New work assigned to you shows up here.", captionHidden: true }));
    if (decides) {
      replace(approvals,
        h("h2", { id: "approvals-heading" }, "Approvals waiting for a decision"),
        table("Approvals waiting for a decision", ["Case", "Level", "Amount", "Requested", ""], data.approvals.map((a) => h("tr", {},
          h("td", {}, caseLink(a.caseId, data.cases)),
          h("td", {}, `Level ${a.level}`),
          h("td", {}, money(a.amount, a.currency)),
          h("td", {}, timeElement(a.createdAt)),
          h("td", { class: "cell-actions" }, reviewLink(a, data.cases.get(a.caseId))))),
        { empty: "No approvals are waiting for you.", captionHidden: true }));
    }
    return h("div", { class: "stack" }, tasks, decides ? approvals : null);
  }

  const body = h("div");
  const refresh = () => loadInto(body, load, render, "Loading your work…");
  refresh();
  return h("section", { class: "page" },
    pageHeader(`Hello, ${user.username}`, "Your open tasks and the decisions waiting for you."),
    summary, body);
}

export function queuePage(ctx) {
  const user = ctx.session.user;
  const body = h("div");

  // The team is the personnel directory's, as the API decides it (never the token's custom:team); everyone
  // may read their own entry, and someone not in the directory has no team.
  async function load() {
    const me = await ctx.api.get(`/personnel/${encodeURIComponent(user.username)}`).catch((error) => {
      if (error.status === 404) return null;
      throw error;
    });
    if (!me) return { team: null };
    const list = await ctx.api.all("/tasks", { team: me.team });
    const cases = await casesById(ctx.api, list.items.map((t) => t.caseId));
    return { team: me.team, tasks: list.items, cases };
  }

  function render(data) {
    const team = data.team;
    if (!team) return h("p", { class: "empty" }, "You belong to no team, so there is no team queue to show.");
    return h("section", { class: "panel" },
      h("h2", {}, `Waiting in the ${team} queue`),
      table(`Open tasks in the ${team} team's queue`, ["Task", "Case", "Due", ""], data.tasks.map((task) => h("tr", {},
        h("td", {}, h("strong", {}, task.title), h("div", { class: "muted small" }, label(task.type), task.reason ? ` · ${task.reason}` : "")),
        h("td", {}, caseLink(task.caseId, data.cases)),
        h("td", {}, dueCell(task.dueAt)),
        h("td", { class: "cell-actions" }, taskActions(ctx, task, refresh)))),
      { empty: "The queue is empty: every task has someone working on it.", captionHidden: true }));
  }

  const refresh = () => loadInto(body, load, render, "Loading the team queue…");
  refresh();
  return h("section", { class: "page" },
    pageHeader("Team queue", "Tasks for your team that nobody has claimed yet. Claim one to work on it."),
    body);
}

// To the case page when the approver may read the case, else to the approval itself.
function reviewLink(approval, visibleCase) {
  const href = visibleCase ? `#/cases/${encodeURIComponent(approval.caseId)}` : `#/approvals/${encodeURIComponent(approval.id)}`;
  const name = visibleCase ? visibleCase.number : approval.caseId;
  return h("a", { class: "btn btn-small btn-primary", href, "aria-label": `Review the approval of ${name}` }, "Review");
}

function stat(name, value, tone) {
  return h("div", { class: ["stat", tone ? `stat-${tone}` : null] }, h("span", { class: "stat-value" }, String(value)), h("span", { class: "stat-label" }, name));
}
