// The people's side of the workflow on a case: its tasks, its approvals (with the decision buttons for
// approvers) and its compensation ledger (with the payment confirmation for finance).
import { announce, h, replace, uid } from "../../dom.js";
import { badge, label, money, timeElement } from "../../format.js";
import { dueCell, taskActions } from "../common.js";

export function tasksPanel(ctx, onChange) {
  const body = h("div");
  return {
    element: h("section", { class: "panel", id: "tasks", "aria-labelledby": "tasks-heading" }, h("h2", { id: "tasks-heading" }, "Tasks"), body),
    update(tasks) {
      replace(body, tasks.length ? h("ul", { class: "items" }, tasks.map((task) => h("li", { class: ["item", task.status !== "OPEN" ? "item-closed" : null] },
        h("div", { class: "item-main" },
          h("strong", {}, task.title),
          h("span", { class: "muted small" }, task.assignee ? `Assigned to ${task.assignee}` : `In the ${task.team} queue`,
            task.status === "OPEN" ? [" · due ", dueCell(task.dueAt)] : task.completedBy ? ` · done by ${task.completedBy}` : "")),
        h("div", { class: "item-side" }, taskActions(ctx, task, onChange))))) : h("p", { class: "empty" }, "No tasks yet: the workflow creates them when it assigns the case."));
    },
  };
}

export function approvalsPanel(ctx, onChange, readable) {
  const body = h("div", {}, readable ? null
    : h("p", { class: "muted small" }, "Approvers, admins and auditors see the approvals here; their decisions show in the activity feed."));
  const element = h("section", { class: "panel", id: "approvals", "aria-labelledby": "approvals-heading" }, h("h2", { id: "approvals-heading" }, "Approvals"), body);
  let lastKey = null;

  const decisionForm = (approval) => approvalDecisionForm(ctx, approval, onChange);

  return {
    element,
    failed(error) {
      lastKey = null;
      replace(body, h("p", { class: "inline-error", role: "alert" }, `Approvals could not be loaded: ${error.message}`));
    },
    update(approvals) {
      const key = JSON.stringify(approvals);
      if (key === lastKey) return; // keep a half-written decision comment while the page refreshes
      lastKey = key;
      const decides = ctx.session.can("approver");
      replace(body, approvals.length ? h("ul", { class: "items" }, approvals.map((a) => h("li", { class: "item item-stacked" },
        h("div", { class: "item-row" },
          h("strong", {}, `Level ${a.level}`), a.amount ? h("span", {}, money(a.amount, a.currency)) : null, badge(a.status)),
        h("p", { class: "muted small" }, approvalLine(a)),
        a.status === "PENDING" && decides ? decisionForm(a) : null))) : h("p", { class: "empty" }, "No approval has been asked for."));
    },
  };
}

export function approvalLine(a) {
  return a.status === "PENDING"
    ? `Asked ${new Date(a.createdAt).toLocaleString()}${a.assignee ? ` of ${a.assignee}` : " of any approver"}`
    : `${label(a.status)} by ${a.decidedBy || "—"}${a.onBehalfOf ? ` for ${a.onBehalfOf}` : ""}${a.comment ? `: “${a.comment}”` : ""}`;
}

// Approve or reject, with an optional comment; four-eyes and conflicts come back from the API as messages.
export function approvalDecisionForm(ctx, approval, onChange) {
  const commentId = uid("decision-comment");
  const comment = h("textarea", { id: commentId, rows: 2, maxlength: 2000, placeholder: "Reason (shown in the case history)" });
  const error = h("div", { role: "alert" });
  const decide = (decision) => async (event) => {
    const buttons = event.currentTarget.parentElement.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    replace(error);
    try {
      const body = { decision };
      if (comment.value.trim()) body.comment = comment.value.trim();
      await ctx.api.post(`/approvals/${encodeURIComponent(approval.id)}/decision`, body);
      announce(decision === "APPROVE" ? "Approved" : "Rejected");
      onChange();
    } catch (failure) {
      replace(error, h("p", { class: "alert alert-error small" }, failure.message));
      buttons.forEach((b) => { b.disabled = false; });
    }
  };
  return h("div", { class: "decision" },
    h("label", { for: commentId }, "Decision comment", h("span", { class: "optional" }, " (optional)")), comment,
    h("div", { class: "decision-buttons" },
      h("button", { type: "button", class: "btn btn-approve", onclick: decide("APPROVE") }, "Approve"),
      h("button", { type: "button", class: "btn btn-reject", onclick: decide("REJECT") }, "Reject")),
    error);
}

export function compensationPanel(ctx, caseId, onChange) {
  const body = h("div");
  const element = h("section", { class: "panel", id: "compensation", "aria-labelledby": "compensation-heading" }, h("h2", { id: "compensation-heading" }, "Compensation"), body);

  function paymentForm() {
    const id = uid("payment-ref");
    const reference = h("input", { id, placeholder: "e.g. PAY-2026-0001", autocomplete: "off" });
    const error = h("div", { role: "alert" });
    const button = h("button", { type: "submit", class: "btn btn-primary btn-small" }, "Confirm payment");
    return h("form", { class: "inline-form", novalidate: true, onsubmit: async (event) => {
      event.preventDefault();
      button.disabled = true;
      replace(error);
      try {
        await ctx.api.post(`/cases/${encodeURIComponent(caseId)}/compensation/payment`, { reference: reference.value.trim() });
        announce("Payment confirmed");
        onChange();
      } catch (failure) {
        replace(error, h("p", { class: "field-error" }, failure.details.length ? failure.details.map((d) => d.issue).join("; ") : failure.message));
        button.disabled = false;
      }
    } }, h("label", { for: id }, "Payment reference"), h("div", { class: "upload-row" }, reference, button), error);
  }

  return {
    element,
    update(record, asked) {
      if (!record) {
        replace(body, asked
          ? h("p", { class: "muted" }, `${money(asked.amount, asked.currency)} asked for; the ledger opens once it is approved.`)
          : h("p", { class: "empty" }, "No compensation asked for."));
        return;
      }
      replace(body,
        h("dl", { class: "amounts" },
          amount("Requested", record.requested, record.currency),
          amount("Approved", record.approved, record.currency),
          amount("Paid", record.paid, record.currency),
          record.cap ? amount("Cap", record.cap, record.currency) : null),
        h("p", { class: "small" }, "Payment instruction ", badge(record.instruction.status),
          record.instruction.reference ? ` · reference ${record.instruction.reference}` : ""),
        record.ledger.length ? h("table", { class: "ledger" },
          h("caption", {}, "Ledger"),
          h("thead", {}, h("tr", {}, ["", "Entry", "Amount", "By", "When"].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, record.ledger.map((e) => h("tr", {},
            h("td", { class: "muted" }, `#${e.seq}`), h("td", {}, label(e.type), e.note ? h("div", { class: "muted small" }, e.note) : null),
            h("td", { class: "num" }, money(e.amount, e.currency)), h("td", {}, e.actor), h("td", {}, timeElement(e.at)))))) : null,
        record.instruction.status === "PENDING" && ctx.session.can("finance") ? paymentForm() : null);
    },
  };
}

function amount(name, value, currency) {
  return h("div", {}, h("dt", {}, name), h("dd", {}, money(value, currency)));
}
