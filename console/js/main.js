// Starts the console: configuration, session, the top bar and the routes.
import { Api } from "./api.js";
import { loadConfig } from "./config.js";
import { errorBox, h, replace } from "./dom.js";
import { navigate, Router } from "./router.js";
import { Session } from "./session.js";
import { calendarEditor } from "./views/admin/calendar_editor.js";
import { calendarsPage } from "./views/admin/calendars.js";
import { caseTypeEditor, caseTypeVersionPage } from "./views/admin/case_type_editor.js";
import { caseTypesPage } from "./views/admin/case_types.js";
import { isAdmin } from "./views/admin/kit.js";
import { approvalPage } from "./views/approval_page.js";
import { casePage } from "./views/case_page.js";
import { caseForm } from "./views/case_form.js";
import { caseList } from "./views/case_list.js";
import { bell, notificationsPage } from "./views/notifications.js";
import { signInPage } from "./views/signin.js";
import { inboxPage, queuePage } from "./views/work.js";

const ROUTES = [
  ["/", inboxPage],
  ["/inbox", inboxPage],
  ["/queue", queuePage],
  ["/cases", caseList],
  ["/cases/new", caseForm],
  ["/cases/:id", casePage],
  ["/approvals/:id", approvalPage],
  ["/notifications", notificationsPage],
  ["/signin", signInPage],
  ["/admin/case-types", caseTypesPage],
  ["/admin/case-types/new", caseTypeEditor],
  ["/admin/case-types/:id", caseTypeEditor],
  ["/admin/case-types/:id/versions/:version", caseTypeVersionPage],
  ["/admin/calendars", calendarsPage],
  ["/admin/calendars/new", calendarEditor],
  ["/admin/calendars/:id", calendarEditor],
];

const NAV = [
  ["#/inbox", "My work"],
  ["#/queue", "Team queue"],
  ["#/cases", "Cases"],
];
const ADMIN_NAV = [
  ["#/admin/case-types", "Case types"],
  ["#/admin/calendars", "Calendars"],
];

async function start() {
  const main = document.getElementById("main");
  let config;
  try {
    config = await loadConfig();
  } catch (error) {
    replace(main, errorBox(error));
    return;
  }
  const session = new Session(config);
  const api = new Api(config, session);
  const ctx = { config, session, api, navigate, notice: null };
  session.onChange((reason) => {
    ctx.notice = reason || null;
    navigate("/signin");
  });

  let renderCount = 0;
  const router = new Router(ROUTES, async (view, params, query, path) => {
    const mine = ++renderCount;
    if (!session.signedIn && view !== signInPage) {
      ctx.returnTo = path;
      return navigate("/signin");
    }
    renderTopbar(ctx, path);
    if (!view) {
      replace(main, h("section", { class: "page" }, h("h1", { tabindex: "-1" }, "Page not found"),
        h("p", {}, h("a", { href: "#/inbox" }, "Go to my work"))));
      return focusHeading(main);
    }
    const page = await view(ctx, params, query);
    if (mine !== renderCount) return; // the person navigated on meanwhile
    replace(main, page);
    focusHeading(main);
  });
  router.resolve();
}

function renderTopbar(ctx, path) {
  const session = ctx.session;
  const bar = document.getElementById("topbar");
  const user = session.user;
  bar.hidden = !user;
  if (!user) return replace(bar);
  const current = (href) => path === href.slice(1) || (href === "#/cases" && path.startsWith("/cases/") && path !== "/cases/new")
    || (href === "#/inbox" && path === "/") || (href.startsWith("#/admin/") && path.startsWith(`${href.slice(1)}/`));
  const nav = isAdmin(session) ? [...NAV, ...ADMIN_NAV] : NAV;
  replace(bar,
    h("a", { class: "brand", href: "#/inbox" }, h("span", { class: "brand-mark", "aria-hidden": "true" }), "Case Management"),
    h("nav", { "aria-label": "Main" },
      h("ul", {}, nav.map(([href, text]) => h("li", {}, h("a", { href, "aria-current": current(href) ? "page" : null }, text))))),
    session.can("caseworker", "supervisor")
      ? h("a", { class: "btn btn-primary btn-small", href: "#/cases/new", "aria-current": path === "/cases/new" ? "page" : null }, "New case")
      : null,
    h("div", { class: "user" },
      bell(ctx, path === "/notifications"),
      h("span", { class: "avatar", "aria-hidden": "true" }, user.username.slice(0, 2).toUpperCase()),
      h("span", { class: "user-name" }, h("strong", {}, user.username),
        h("small", {}, [user.groups.join(", "), user.team].filter(Boolean).join(" · "))),
      h("button", { type: "button", class: "btn btn-ghost btn-small", onclick: () => session.signOut("You have signed out.") }, "Sign out")));
}

function focusHeading(main) {
  const heading = main.querySelector("h1");
  (heading || main).focus({ preventScroll: false });
}

start();
