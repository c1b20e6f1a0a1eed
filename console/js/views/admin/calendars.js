// The business calendars, for admins: the working time case types count their SLAs in.
import { h, loadInto } from "../../dom.js";
import { pageHeader, table } from "../common.js";
import { adminOnly } from "./admin_page.js";
import { WEEKDAYS } from "./calendar_editor.js";

export const calendarsPage = adminOnly((ctx) => {
  const area = h("div", { class: "panel panel-flush" });
  loadInto(area, () => ctx.api.all("/calendars"), (list) => table("Calendars", ["Id", "Name", "Time zone", "Working days", "Holidays", "Version"],
    list.items.map((calendar) => h("tr", {},
      h("td", {}, h("a", { class: "mono", href: `#/admin/calendars/${encodeURIComponent(calendar.id)}` }, calendar.id)),
      h("td", {}, calendar.name || "—"),
      h("td", {}, calendar.timeZone),
      h("td", {}, WEEKDAYS.filter(([day]) => (calendar.workingHours[day] || []).length).map(([, name]) => name.slice(0, 3)).join(", ") || "none"),
      h("td", { class: "num" }, String((calendar.holidays || []).length)),
      h("td", { class: "num" }, String(calendar.version)))),
    { empty: "No calendars yet: case types count their SLAs in calendar time.", captionHidden: true }), "Loading calendars…");
  return h("section", { class: "page" },
    pageHeader("Calendars", "When work happens: SLAs and task due dates of a case type with a calendar count only working time.",
      h("a", { class: "btn btn-primary", href: "#/admin/calendars/new" }, "New calendar")),
    area);
});
