// One activity feed: the case's hash-chained audit events (every comment, task, approval, document and
// workflow step is one), told in words with the task titles and file names they refer to, newest first,
// filterable by kind; with the comment box on top.
import { announce, h, replace } from "../../dom.js";
import { label, money, timeElement } from "../../format.js";

const KINDS = [["all", "All"], ["comment", "Comments"], ["task", "Tasks"], ["approval", "Approvals"], ["document", "Documents"], ["case", "Case & workflow"]];

export function kindOf(type) {
  if (type.startsWith("COMMENT")) return "comment";
  if (type.startsWith("TASK")) return "task";
  if (type.startsWith("APPROVAL")) return "approval";
  if (type.startsWith("DOCUMENT") || type.startsWith("LEGAL_HOLD")) return "document";
  return "case";
}

export function describeEvent(event, lookups) {
  const d = event.data || {};
  const task = d.task || (d.taskId && lookups.tasks.get(d.taskId)) || null;
  const doc = d.documentId && lookups.documents.get(d.documentId);
  const file = doc ? `“${doc.filename}”` : "a document";
  switch (event.type) {
    case "CASE_CREATED": return ["opened the case", null];
    case "CASE_UPDATED": return ["edited the case", d.changes ? Object.keys(d.changes).join(", ") : null];
    case "COMMENT_ADDED": return ["commented", d.text || null];
    case "TASK_CREATED": return [`created the task “${task ? task.title : "?"}”`, task && task.assignee ? `assigned to ${task.assignee}` : `waiting in the ${task ? task.team : "team"} queue`];
    case "TASK_COMPLETED": return [`completed “${task ? task.title : "a task"}”`, [d.outcome, d.comment].filter(Boolean).join(" — ") || null];
    case "TASK_CLAIMED": return [`claimed “${task ? task.title : "a task"}”`, null];
    case "TASK_REASSIGNED": return [`reassigned “${task ? task.title : "a task"}”`, d.to || d.assignee ? `to ${d.to || d.assignee}` : null];
    case "TASK_CANCELLED": return [`cancelled “${task ? task.title : "a task"}”`, d.reason || null];
    case "TASK_ESCALATED": return [`escalated “${task ? task.title : "a task"}”`, d.reason || null];
    case "APPROVAL_REQUESTED": return [`asked for a level ${d.level || 1} approval`, d.amount ? money(d.amount, d.currency) : null];
    case "APPROVAL_DECIDED": return [`${String(d.decision || "").toLowerCase() || "decided"} the level ${d.level || 1} approval`, [d.onBehalfOf ? `on behalf of ${d.onBehalfOf}` : null, d.comment].filter(Boolean).join(" — ") || null];
    case "APPROVAL_EXPIRED": return ["let an approval expire", null];
    case "DOCUMENT_UPLOAD_REQUESTED": return [`started an upload of ${d.filename ? `“${d.filename}”` : file}`, d.kind ? `as ${d.kind}` : null];
    case "DOCUMENT_UPLOADED": return [`received a version of ${file}`, d.size ? `${d.size} bytes` : null];
    case "DOCUMENT_PROCESSING_STARTED": return [`started checking ${file}`, null];
    case "DOCUMENT_VERIFIED": return [`verified ${file}`, d.sha256 ? `SHA-256 ${d.sha256.slice(0, 16)}…` : null];
    case "DOCUMENT_QUARANTINED": return [`quarantined ${file}`, (d.reasons || []).join("; ") || null];
    case "DOCUMENT_DOWNLOADED": return [`downloaded ${file}`, null];
    case "DOCUMENT_DELETED": return [`deleted ${file}`, null];
    case "WORKFLOW_WAITING": return [`waits for ${label(d.stage)}`, null];
    case "WORKFLOW_ESCALATED": return [`escalated the ${label(d.stage).toLowerCase()} stage`, null];
    case "COMPENSATION_INSTRUCTED": return ["instructed the compensation payment", d.amount ? money(d.amount, d.currency) : null];
    case "PAYMENT_CONFIRMED": return ["confirmed the payment", d.reference ? `reference ${d.reference}` : null];
    case "CASE_CLOSED": return ["closed the case", d.outcome ? label(d.outcome) : null];
    default: return [label(event.type).toLowerCase(), null];
  }
}

const FIRST_SHOWN = 12;

export function activityPanel(ctx, caseId, onComment) {
  let filter = "all";
  let showAll = false;
  const more = h("button", { type: "button", class: "btn btn-ghost btn-small more", hidden: true, onclick: () => {
    showAll = true;
    render();
  } });
  let data = null;
  const list = h("ol", { class: "feed", "aria-label": "Activity, newest first" });
  const chips = h("div", { class: "chips", role: "group", "aria-label": "Show" },
    KINDS.map(([kind, text]) => h("button", { type: "button", class: "chip", "aria-pressed": kind === filter ? "true" : "false", dataset: { kind },
      onclick: () => {
        filter = kind;
        chips.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", b.dataset.kind === kind ? "true" : "false"));
        render();
      } }, text)));

  const text = h("textarea", { id: "comment-text", rows: 2, placeholder: "Write a comment for the team…", maxlength: 5000 });
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const send = h("button", { type: "submit", class: "btn btn-primary btn-small" }, "Comment");
  const form = h("form", { class: "comment-form", novalidate: true, onsubmit: async (event) => {
    event.preventDefault();
    error.hidden = true;
    send.disabled = true;
    try {
      await ctx.api.post(`/cases/${encodeURIComponent(caseId)}/comments`, { text: text.value });
      text.value = "";
      announce("Comment added");
      onComment();
    } catch (failure) {
      error.textContent = failure.details.length ? failure.details.map((d) => d.issue).join("; ") : failure.message;
      error.hidden = false;
      text.focus();
    } finally {
      send.disabled = false;
    }
  } }, h("label", { for: "comment-text", class: "visually-hidden" }, "Comment"), text, error, h("div", { class: "form-actions" }, send));

  function render() {
    if (!data) return;
    const matching = [...data.events].reverse().filter((e) => filter === "all" || kindOf(e.type) === filter);
    const events = showAll ? matching : matching.slice(0, FIRST_SHOWN);
    more.hidden = events.length === matching.length;
    more.textContent = `Show all ${matching.length} events`;
    replace(list, events.length ? events.map((event) => {
      const [what, detail] = describeEvent(event, data.lookups);
      const kind = kindOf(event.type);
      return h("li", { class: ["feed-item", `feed-${kind}`] },
        h("span", { class: "feed-dot", "aria-hidden": "true" }),
        h("div", { class: "feed-body" },
          h("p", {}, h("strong", {}, event.actor), " ", what),
          detail ? h("p", { class: kind === "comment" ? "feed-quote" : "feed-detail" }, detail) : null,
          h("p", { class: "feed-meta" }, timeElement(event.at), " · ", h("span", { class: "tag" }, label(kind)),
            h("span", { class: "hash", title: `audit event ${event.seq}, hash ${event.hash}` }, ` #${event.seq}`))));
    }) : h("li", { class: "empty" }, "Nothing of this kind yet."));
  }

  return {
    element: h("section", { class: "panel", id: "activity", "aria-labelledby": "activity-heading" },
      h("div", { class: "panel-head" }, h("h2", { id: "activity-heading" }, "Activity"), chips),
      form, list, more),
    update(events, lookups) {
      data = { events, lookups };
      render();
    },
  };
}
