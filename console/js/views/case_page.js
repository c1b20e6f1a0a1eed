// The case page: details, the workflow diagram, tasks, approvals, compensation, the customer view,
// documents and one activity feed. It refreshes itself every few seconds while the case is moving, and
// redraws a part only when its data changed, so focus and half-typed text survive.
import { errorBox, h, replace, spinner } from "../dom.js";
import { badge, label, money, timeElement } from "../format.js";
import { dueCell } from "./common.js";
import { activityPanel } from "./case/activity.js";
import { customerPanel } from "./case/customer.js";
import { customFieldsPanel } from "./case/custom_fields.js";
import { documentsPanel } from "./case/documents.js";
import { progressOf, workflowDiagram } from "./case/workflow_diagram.js";
import { approvalsPanel, compensationPanel, tasksPanel } from "./case/work_panels.js";

const POLL_MS = 2500;
let aslPromise = null;

function caseWorkflowAsl() {
  aslPromise = aslPromise || fetch("asl/case_workflow.asl.json").then((r) => {
    if (!r.ok) throw new Error(`the workflow definition could not be loaded (HTTP ${r.status})`);
    return r.json();
  });
  aslPromise.catch(() => { aslPromise = null; });
  return aslPromise;
}

export async function casePage(ctx, params) {
  const id = params.id;
  const path = `/cases/${encodeURIComponent(id)}`;
  let record;
  try {
    record = await ctx.api.get(path);
  } catch (error) {
    return h("section", { class: "page" }, h("h1", { tabindex: "-1" }, error.status === 404 ? "Case not found" : "The case could not be loaded"),
      error.status === 404 ? h("p", {}, "There is no such case, or you may not see it. ", h("a", { href: "#/cases" }, "Back to the cases")) : errorBox(error));
  }

  const readsApprovals = ctx.session.can("approver", "auditor");
  const header = h("div", { class: "case-header" });
  const diagram = h("div", { class: "workflow-scroll", tabindex: "0", "aria-label": "Workflow diagram (scrolls sideways)" }, spinner("Drawing the workflow…"));
  const workflowNote = h("p", { class: "muted small", "aria-live": "polite" });
  const updated = h("span", { class: "muted small", role: "status" });
  const problems = h("div", { role: "alert" });
  const refresh = () => update();

  const tasks = tasksPanel(ctx, refresh);
  const approvals = approvalsPanel(ctx, refresh, readsApprovals);
  const compensation = compensationPanel(ctx, id, refresh);
  const documents = documentsPanel(ctx, record, refresh);
  const activity = activityPanel(ctx, id, refresh);
  const customFields = customFieldsPanel(ctx);
  const last = new Map();
  const changed = (key, value) => {
    const text = JSON.stringify(value);
    if (last.get(key) === text) return false;
    last.set(key, text);
    return true;
  };

  const root = h("section", { class: "page page-wide" },
    header,
    problems,
    h("section", { class: "panel", id: "workflow", "aria-labelledby": "workflow-heading" },
      h("div", { class: "panel-head" }, h("h2", { id: "workflow-heading" }, "Workflow"), workflowNote),
      diagram,
      h("ul", { class: "legend", "aria-label": "Legend" },
        h("li", {}, h("span", { class: "swatch swatch-current" }), "current step"),
        h("li", {}, h("span", { class: "swatch swatch-visited" }), "done"),
        h("li", {}, h("span", { class: "swatch swatch-pending" }), "not reached"))),
    h("div", { class: "case-grid" },
      h("div", { class: "case-main" }, customFields.element, activity.element, documents.element),
      h("div", { class: "case-side" }, tasks.element, approvals.element, compensation.element, customerPanel(ctx, record.customerId))),
    h("div", { class: "page-foot" }, updated,
      h("button", { type: "button", class: "btn btn-ghost btn-small", onclick: refresh }, "Refresh now")));

  // The case's assignee; the workflow gives work through tasks, so their assignees are shown too.
  function workers(c, taskItems) {
    if (c.assignee) return c.assignee;
    const people = [...new Set(taskItems.filter((t) => t.status === "OPEN" && t.assignee).map((t) => t.assignee))];
    if (people.length) return [people.join(", "), h("span", { class: "muted small" }, " (tasks)")];
    const finished = [...new Set(taskItems.filter((t) => t.status === "DONE" && t.completedBy).map((t) => t.completedBy))];
    if (finished.length) return [finished.join(", "), h("span", { class: "muted small" }, " (work done)")];
    return h("span", { class: "muted" }, taskItems.some((t) => t.status === "OPEN") ? "In the team queue" : "Unassigned");
  }

  function renderHeader(c, taskItems = []) {
    replace(header,
      h("nav", { class: "breadcrumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/cases" }, "Cases"), " / ", h("span", { class: "mono" }, c.number)),
      h("div", { class: "case-title" },
        h("h1", { tabindex: "-1" }, c.title),
        h("div", { class: "badges" }, badge(c.status, { prefix: "Status" }), badge(c.priority, { prefix: "Priority" }))),
      c.description ? h("p", { class: "case-description" }, c.description) : null,
      h("dl", { class: "meta" },
        meta("Number", h("span", { class: "mono" }, c.number)),
        meta("Type", [label(c.caseType), c.caseTypeVersion ? h("span", { class: "muted small" }, ` (version ${c.caseTypeVersion})`) : null], "caseType"),
        meta("Team", c.team || "—"),
        meta("Assigned to", workers(c, taskItems), "assignee"),
        meta("Due", dueCell(c.dueAt, !["CLOSED", "RESOLVED"].includes(c.status))),
        meta("Opened", [timeElement(c.createdAt), ` by ${c.createdBy}`]),
        c.compensation ? meta("Compensation asked", money(c.compensation.amount, c.compensation.currency)) : null,
        c.tags && c.tags.length ? meta("Tags", c.tags.map((t) => h("span", { class: "tag" }, t))) : null));
  }

  async function update() {
    const q = (p, query) => ctx.api.get(p, query);
    const all = (p, query) => ctx.api.all(p, query);  // a listing, every page of it
    const [c, view, taskList, approvalList, documentList, history, comp, asl] = await Promise.allSettled([
      q(path), q(`${path}/workflow`), all("/tasks", { caseId: id }), readsApprovals ? all("/approvals", { caseId: id }) : Promise.resolve(null),
      all(`${path}/documents`), all(`${path}/history`),
      record.compensation ? q(`${path}/compensation`) : Promise.resolve(null), caseWorkflowAsl(),
    ]);
    if (!root.isConnected && last.size) return false;
    const failures = [c, history].filter((r) => r.status === "rejected");
    replace(problems, failures.length ? errorBox(failures[0].reason, { retry: refresh }) : null);
    const taskItems = taskList.status === "fulfilled" ? taskList.value.items : [];
    if (c.status === "fulfilled") {
      record = c.value;
      if (changed("case", [record, taskItems])) renderHeader(record, taskItems);
      if (changed("fields", record.fields || null)) customFields.update(record).catch(() => null);
    }
    const stage = record.workflow ? record.workflow.stage : null;
    if (asl.status === "fulfilled" && changed("workflow", [view.value || null, stage])) {
      const progress = progressOf(asl.value, view.status === "fulfilled" ? view.value : null, stage);
      replace(diagram, workflowDiagram(asl.value, progress));
      const current = diagram.querySelector(".node-current, .node-failed");
      if (current && diagram.scrollWidth > diagram.clientWidth) {
        const box = current.getBBox();
        diagram.scrollLeft = Math.max(0, box.x + box.width / 2 - diagram.clientWidth / 2);
      }
      workflowNote.textContent = progress.done ? "Finished" : stage ? `Stage: ${label(stage)}` : "Not started yet";
    } else if (asl.status === "rejected") replace(diagram, errorBox(asl.reason, { retry: refresh }));
    if (changed("tasks", taskItems)) tasks.update(taskItems);
    if (approvalList.status === "fulfilled" && approvalList.value) approvals.update(approvalList.value.items);
    else if (approvalList.status === "rejected") approvals.failed(approvalList.reason);
    const compensationValue = comp.status === "fulfilled" ? comp.value : null;
    if (changed("compensation", compensationValue)) compensation.update(compensationValue, record.compensation);
    const docs = documentList.status === "fulfilled" ? documentList.value.items : [];
    if (changed("documents", docs)) documents.update(docs);
    if (history.status === "fulfilled" && changed("history", [history.value.items, taskItems, docs])) {
      activity.update(history.value.items, {
        tasks: new Map(taskItems.map((t) => [t.id, t])), documents: new Map(docs.map((d) => [d.id, d])),
      });
    }
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    const processing = docs.some((d) => d.status === "PENDING" || d.status === "PROCESSING");
    return record.status !== "CLOSED" || processing;
  }

  renderHeader(record);
  const poll = async () => {
    let again = true;
    try {
      again = await update();
    } catch (error) {
      replace(problems, errorBox(error, { retry: refresh }));
    }
    if (again && (root.isConnected || !last.size)) window.setTimeout(() => { if (root.isConnected) poll(); }, POLL_MS);
  };
  poll();
  return root;
}

function meta(name, value, key) {
  return h("div", { class: "meta-item", dataset: key ? { meta: key } : {} }, h("dt", {}, name), h("dd", {}, value));
}
