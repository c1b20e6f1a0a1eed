// Admin pages: what others see instead (the API refuses them too), a page that failed to load, and how their
// editors save.
import { announce, errorBox, h } from "../../dom.js";
import { isAdmin } from "./kit.js";

export function adminOnly(view) {
  return async (ctx, params, query) => {
    if (!isAdmin(ctx.session)) {
      return h("section", { class: "page" }, h("h1", { tabindex: "-1" }, "Not allowed"), h("p", {}, "Only administrators manage case types and calendars."));
    }
    try {
      return await view(ctx, params, query);
    } catch (error) {
      return h("section", { class: "page" }, h("h1", { tabindex: "-1" }, error.status === 404 ? "Not found" : "The page could not be loaded"), errorBox(error));
    }
  };
}

// The message a save left for the page it navigated to (ctx.flash), once, as a status.
export function takeFlash(ctx) {
  const text = ctx.flash;
  ctx.flash = null;
  if (!text) return null;
  announce(text);
  return h("p", { class: "alert alert-info", role: "status" }, text);
}

// Submits an editor: `save()` while its button says it is busy; a 412 says `stale` and offers to reload the page
// (nothing is overwritten); any other refusal shows by the inputs its paths name.
export async function submitting(submit, busyText, errors, { save, stale, reloadPath, navigate }) {
  const idleText = submit.textContent;
  errors.clear();
  submit.disabled = true;
  submit.textContent = busyText;
  try {
    await save();
  } catch (error) {
    if (error.status === 412) {
      errors.message(stale, "Reload to edit the newest version; what you changed here is not saved.",
        h("button", { type: "button", class: "btn btn-small btn-secondary", onclick: () => navigate(reloadPath) }, "Reload"));
    } else errors.show(error);
  } finally {
    submit.disabled = false;
    submit.textContent = idleText;
  }
}
