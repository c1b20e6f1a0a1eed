// The case types, for admins: each with its current version and whether it is retired.
import { h, loadInto } from "../../dom.js";
import { badge } from "../../format.js";
import { pageHeader, table } from "../common.js";
import { adminOnly } from "./admin_page.js";

export const caseTypesPage = adminOnly((ctx) => {
  const area = h("div", { class: "panel panel-flush" });
  loadInto(area, () => ctx.api.all("/case-types"), (list) => table("Case types", ["Id", "Name", "Team", "Version", "Status"],
    list.items.map((type) => h("tr", {},
      h("td", {}, h("a", { class: "mono", href: `#/admin/case-types/${encodeURIComponent(type.id)}` }, type.id)),
      h("td", {}, type.name),
      h("td", {}, type.team || h("span", { class: "muted" }, "the opener's")),
      h("td", { class: "num" }, String(type.version)),
      h("td", {}, type.retired ? badge("RETIRED") : badge("ACTIVE")))),
    { empty: "No case types yet.", captionHidden: true }), "Loading case types…");
  return h("section", { class: "page" },
    pageHeader("Case types", "What each kind of case asks for and how its work runs. Publishing a change makes a new version.",
      h("a", { class: "btn btn-primary", href: "#/admin/case-types/new" }, "New case type")),
    area);
});
