// Notifications for people: the bell in the top bar (the unread count, polled modestly) and the notifications
// page (newest first, mark read, mark all read, links to the case or the approval, e-mail preferences).
import { announce, h, loadInto, replace } from "../dom.js";
import { label, timeElement } from "../format.js";
import { actionButton, pageHeader } from "./common.js";

const POLL_MS = 30_000; // the bell's count: a cheap bounded count, twice a minute, only while the tab is visible
const PAGE_SIZE = 25;

// The bell keeps one element and one timer across re-renders of the top bar.
let bellState = null;

export function bell(ctx, current) {
  if (!bellState || bellState.user !== ctx.session.user.username) {
    if (bellState) window.clearInterval(bellState.timer);
    const count = h("span", { class: "bell-count", hidden: true });
    const link = h("a", { class: "bell", href: "#/notifications" },
      h("span", { class: "bell-icon", "aria-hidden": "true" }, "\u{1F514}"), count);
    bellState = { user: ctx.session.user.username, link, count, timer: null };
    bellState.timer = window.setInterval(() => {
      if (document.visibilityState === "visible" && ctx.session.signedIn) refreshBell(ctx);
    }, POLL_MS);
  }
  bellState.link.setAttribute("aria-current", current ? "page" : "false");
  refreshBell(ctx);
  return bellState.link;
}

export async function refreshBell(ctx) {
  const state = bellState;
  if (!state) return;
  let unread = 0;
  let more = false;
  try {
    ({ unread, more } = await ctx.api.get("/notifications/unread-count"));
  } catch {
    return; // the bell keeps its last count; pages show their own errors
  }
  const text = more ? `${unread - 1}+` : String(unread);
  state.count.textContent = text;
  state.count.hidden = unread === 0;
  state.link.setAttribute("aria-label", unread ? `Notifications, ${text} unread` : "Notifications, none unread");
}

function target(n) {
  // An approver may decide a case they may not read: the approval page shows what they need.
  if (n.kind === "APPROVAL_WAITING" && n.approvalId) return `#/approvals/${encodeURIComponent(n.approvalId)}`;
  return `#/cases/${encodeURIComponent(n.caseId)}`;
}

function targetText(n) {
  if (n.kind === "APPROVAL_WAITING" && n.approvalId) return "Open the approval";
  if (n.taskId) return "Open the task's case";
  return "Open the case";
}

export function notificationsPage(ctx, _params, query) {
  const unreadOnly = query.get("unread") === "true";
  const list = h("section", { class: "panel", "aria-labelledby": "notes-heading" });
  const preferences = h("section", { class: "panel", "aria-labelledby": "prefs-heading" });
  let cursor = null;
  let items = [];

  async function markRead(n) {
    if (n.readAt) return;
    const read = await ctx.api.post(`/notifications/${encodeURIComponent(n.id)}/read`);
    Object.assign(n, read);
    refreshBell(ctx);
  }

  function row(n) {
    const open = h("a", {
      href: target(n),
      onclick: () => { markRead(n).catch(() => {}); }, // the link opens whatever marking does
    }, targetText(n));
    return h("li", { class: ["note", n.readAt ? null : "note-unread"], dataset: { id: n.id } },
      h("div", { class: "note-main" },
        n.readAt ? null : h("span", { class: "badge badge-info" }, "New"),
        h("strong", {}, label(n.kind)), " ", h("span", {}, n.text)),
      h("div", { class: "note-meta muted small" },
        timeElement(n.createdAt), n.caseNumber ? h("span", { class: "mono" }, n.caseNumber) : null, open,
        n.readAt ? null : actionButton("Mark read", async () => {
          await markRead(n);
          announce("Notification marked read");
          render();
        }, { label: `Mark read: ${n.text}` })));
  }

  function render() {
    const shown = unreadOnly ? items.filter((n) => !n.readAt) : items;
    replace(list,
      h("div", { class: "panel-head" },
        h("h2", { id: "notes-heading" }, unreadOnly ? "Unread notifications" : "All notifications"),
        h("a", { href: unreadOnly ? "#/notifications" : "#/notifications?unread=true" }, unreadOnly ? "Show all" : "Show unread only")),
      shown.length
        ? h("ul", { class: "notes", "aria-label": "Notifications, newest first" }, shown.map(row))
        : h("p", { class: "empty" }, unreadOnly ? "Nothing unread." : "No notifications yet. Work assigned to you, approvals waiting for you and mentions show up here."),
      cursor ? actionButton("Show older", async () => {
        const page = await ctx.api.get("/notifications", { limit: PAGE_SIZE, cursor, unread: unreadOnly ? "true" : null });
        items = items.concat(page.items);
        cursor = page.nextCursor;
        render();
      }) : null);
    return list;
  }

  async function load() {
    const page = await ctx.api.get("/notifications", { limit: PAGE_SIZE, unread: unreadOnly ? "true" : null });
    items = page.items;
    cursor = page.nextCursor;
  }

  const markAll = actionButton("Mark all read", async () => {
    const result = await ctx.api.post("/notifications/read-all");
    announce(`${result.marked} notifications marked read`);
    refreshBell(ctx);
    loadInto(body, load, render, "Loading your notifications…");
  }, { kind: "btn-secondary" });

  const body = h("div");
  loadInto(body, load, render, "Loading your notifications…");
  loadInto(preferences, () => ctx.api.get("/me/preferences"), (prefs) => preferencesForm(ctx, prefs), "Loading your preferences…");
  return h("section", { class: "page" },
    pageHeader("Notifications", "What happened to your work, newest first.", markAll),
    h("div", { class: "stack" }, body, preferences));
}

function preferencesForm(ctx, prefs) {
  const chosen = new Set(prefs.emailKinds);
  const status = h("span", { role: "status", class: "muted small" });
  const boxes = prefs.kinds.map((kind) => {
    const box = h("input", { type: "checkbox", name: "emailKinds", value: kind, checked: chosen.has(kind) });
    return h("li", {}, h("label", {}, box, " ", label(kind)));
  });
  const form = h("form", { class: "stack" },
    h("h2", { id: "prefs-heading" }, "E-mail me about"),
    h("p", { class: "muted" }, "Every notification shows up here; these kinds also come by e-mail."),
    h("ul", { class: "checks" }, boxes),
    h("div", {}, h("button", { type: "submit", class: "btn btn-primary btn-small" }, "Save preferences"), " ", status));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const emailKinds = [...form.querySelectorAll("input[name=emailKinds]:checked")].map((box) => box.value);
    replace(status, "Saving…");
    try {
      await ctx.api.request("PUT", "/me/preferences", { body: { emailKinds } });
      replace(status, "Saved.");
      announce("Preferences saved");
    } catch (error) {
      replace(status, error.message);
    }
  });
  return form;
}
