// One activity feed: the case's hash-chained audit events (every comment, task, approval, document and
// workflow step is one), told in words with the task titles and file names they refer to, newest first,
// filterable by kind; with the comment box on top and "view as of": the case as it stood at an instant
// (or right after an event), rebuilt by the API from this chain.
import { announce, errorBox, h, replace } from "../../dom.js";
import { badge, label, money, timeElement } from "../../format.js";

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
    case "TASK_SLA_WARNING": return [`warned that “${task ? task.title : "a task"}” is 80 % through its SLA`, d.dueAt ? `due ${d.dueAt}` : null];
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
const UNSTATED = {
  "customerSnapshot.fields": "the customer's details (never kept in the audit trail)",
  "workflow.updatedAt": "when the workflow last moved",
};

// The control and the case it shows: GET /cases/{id}?asOf=<instant>.
function asOfView(ctx, caseId) {
  const input = h("input", { id: "as-of-time", type: "datetime-local", step: "1" });
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const result = h("div", { class: "as-of-result", "aria-live": "polite" });

  async function show(instant) {
    error.hidden = true;
    try {
      const then = await ctx.api.get(`/cases/${encodeURIComponent(caseId)}`, { asOf: instant });
      replace(result, describe(then));
      announce(`The case as of ${new Date(then.asOf.at).toLocaleString()}`);
    } catch (failure) {
      replace(result);
      if (failure.status === 404) error.textContent = "The case did not exist yet at that time.";
      else if (failure.status === 400) error.textContent = failure.details.map((d) => d.issue).join("; ") || failure.message;
      else return replace(result, errorBox(failure));
      error.hidden = false;
    }
  }

  function describe(then) {
    const mark = then.asOf;
    const stage = then.workflow ? label(then.workflow.stage) : "not started";
    return h("div", { class: "alert alert-info as-of" },
      h("p", {}, h("strong", {}, "As of "), timeElement(mark.at), ` — after event #${mark.seq}, version ${then.version}. `,
        mark.verified ? "The audit chain up to it verifies." : h("strong", {}, "The audit chain up to it does NOT verify.")),
      h("dl", { class: "meta" },
        h("div", { class: "meta-item" }, h("dt", {}, "Title"), h("dd", {}, then.title)),
        h("div", { class: "meta-item" }, h("dt", {}, "Status"), h("dd", {}, badge(then.status, { prefix: "Status" }))),
        h("div", { class: "meta-item" }, h("dt", {}, "Priority"), h("dd", {}, badge(then.priority, { prefix: "Priority" }))),
        h("div", { class: "meta-item" }, h("dt", {}, "Stage"), h("dd", {}, stage)),
        then.tags.length ? h("div", { class: "meta-item" }, h("dt", {}, "Tags"), h("dd", {}, then.tags.map((t) => h("span", { class: "tag" }, t)))) : null),
      then.rebuilt.complete ? null : h("p", { class: "small" }, "Not stated by the audit chain: ",
        [...then.rebuilt.missing.map((path) => UNSTATED[path] || path), ...then.rebuilt.unknownEvents.map((t) => `changes of ${t} events`)].join(", ")),
      h("button", { type: "button", class: "btn btn-ghost btn-small", onclick: () => { replace(result); input.value = ""; } }, "Back to now"));
  }

  const form = h("form", { class: "as-of-form", novalidate: true, onsubmit: (event) => {
    event.preventDefault();
    const moment = new Date(input.value);
    if (!input.value || Number.isNaN(moment.getTime())) {
      error.textContent = "Choose a date and time.";
      error.hidden = false;
      return;
    }
    show(moment.toISOString());
  } }, h("label", { for: "as-of-time" }, "View as of"), input,
  h("button", { type: "submit", class: "btn btn-ghost btn-small" }, "Show"), error);
  return { element: h("div", { class: "as-of-view" }, form, result), show };
}

export function activityPanel(ctx, caseId, onComment) {
  let filter = "all";
  let showAll = false;
  const more = h("button", { type: "button", class: "btn btn-ghost btn-small more", hidden: true, onclick: () => {
    showAll = true;
    render();
  } });
  let data = null;
  const asOf = asOfView(ctx, caseId);
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
            h("span", { class: "hash", title: `audit event ${event.seq}, hash ${event.hash}` }, ` #${event.seq}`), " · ",
            h("button", { type: "button", class: "link-button", "aria-label": `View the case as of event #${event.seq}`,
              onclick: () => asOf.show(event.at) }, "view as of"))));
    }) : h("li", { class: "empty" }, "Nothing of this kind yet."));
  }

  return {
    element: h("section", { class: "panel", id: "activity", "aria-labelledby": "activity-heading" },
      h("div", { class: "panel-head" }, h("h2", { id: "activity-heading" }, "Activity"), chips),
      form, asOf.element, list, more),
    update(events, lookups) {
      data = { events, lookups };
      render();
    },
  };
}
