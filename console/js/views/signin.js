// Sign-in: the user pool's user name and password.
import { announce, h } from "../dom.js";

export function signInPage(ctx) {
  const error = h("div", { class: "alert alert-error", role: "alert", hidden: true });
  const notice = ctx.notice ? h("div", { class: "alert alert-info", role: "status" }, ctx.notice) : null;
  ctx.notice = null;
  const username = h("input", { id: "username", name: "username", autocomplete: "username", required: true, autocapitalize: "none", spellcheck: "false" });
  const password = h("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const submit = h("button", { type: "submit", class: "btn btn-primary btn-block" }, "Sign in");

  async function onSubmit(event) {
    event.preventDefault();
    error.hidden = true;
    if (!username.value.trim() || !password.value) {
      error.textContent = "Enter your user name and password.";
      error.hidden = false;
      (username.value.trim() ? password : username).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = "Signing in…";
    try {
      await ctx.session.signIn(username.value.trim(), password.value);
      announce("Signed in");
      const target = ctx.returnTo && ctx.returnTo !== "/signin" ? ctx.returnTo : "/inbox";
      ctx.returnTo = null;
      ctx.navigate(target);
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      password.value = "";
      password.focus();
    } finally {
      submit.disabled = false;
      submit.textContent = "Sign in";
    }
  }

  return h("section", { class: "signin" },
    h("div", { class: "signin-card" },
      h("div", { class: "signin-brand" }, h("span", { class: "brand-mark brand-mark-large", "aria-hidden": "true" }),
        h("span", {}, "Case Management")),
      h("h1", { tabindex: "-1" }, "Sign in"),
      h("p", { class: "muted" }, "Open cases, work your tasks, decide approvals."),
      notice,
      error,
      h("form", { onsubmit: onSubmit, novalidate: true },
        h("div", { class: "field" }, h("label", { for: "username" }, "User name"), username),
        h("div", { class: "field" }, h("label", { for: "password" }, "Password"), password),
        submit)),
    h("p", { class: "signin-foot muted" }, "Signed in through the organisation's user pool (Amazon Cognito)."));
}
