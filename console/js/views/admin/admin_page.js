// Admin pages: what others see instead (the API refuses them too), and a page that failed to load.
import { errorBox, h } from "../../dom.js";
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
