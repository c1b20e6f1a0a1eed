// One approval, for the approver deciding it: what is asked, what a rejection would undo, the decision.
// Approvers decide cases they do not work on, so the case itself may not be visible to them.
import { errorBox, h, replace, spinner } from "../dom.js";
import { badge, money, timeElement } from "../format.js";
import { pageHeader } from "./common.js";
import { approvalDecisionForm, approvalLine } from "./case/work_panels.js";

export async function approvalPage(ctx, params) {
  const body = h("div", { class: "stack" }, spinner("Loading the approval…"));
  const root = h("section", { class: "page page-narrow" }, pageHeader("Approval", null), body);

  async function load() {
    let approval;
    try {
      approval = await ctx.api.get(`/approvals/${encodeURIComponent(params.id)}`);
    } catch (error) {
      replace(body, errorBox(error, { retry: load }));
      return;
    }
    const visibleCase = await ctx.api.get(`/cases/${encodeURIComponent(approval.caseId)}`).catch(() => null);
    replace(root.querySelector("h1"), `Level ${approval.level} approval`);
    replace(body,
      h("div", { class: "panel" },
        h("div", { class: "item-row" }, h("h2", {}, visibleCase ? visibleCase.title : `Case ${approval.caseId}`), badge(approval.status)),
        h("dl", { class: "meta" },
          meta("Case", visibleCase
            ? h("a", { href: `#/cases/${encodeURIComponent(approval.caseId)}` }, h("span", { class: "mono" }, visibleCase.number))
            : h("span", { class: "mono" }, approval.caseId)),
          meta("Amount", approval.amount ? money(approval.amount, approval.currency) : "No compensation"),
          meta("Asked", timeElement(approval.createdAt)),
          meta("Of", approval.assignee || "any approver")),
        visibleCase ? null : h("p", { class: "muted small" }, "The case's details are visible to its team; this approval shows what you need to decide."),
        h("p", { class: "muted" }, approvalLine(approval)),
        approval.onReject && approval.onReject.length
          ? h("div", {}, h("h3", {}, "A rejection would undo"), h("ul", {}, approval.onReject.map((item) => h("li", {}, item))))
          : null,
        approval.status === "PENDING" && ctx.session.can("approver") ? approvalDecisionForm(ctx, approval, load) : null));
  }

  load();
  return root;
}

function meta(name, value) {
  return h("div", { class: "meta-item" }, h("dt", {}, name), h("dd", {}, value));
}
