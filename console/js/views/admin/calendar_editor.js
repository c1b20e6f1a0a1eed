// Create or change a business calendar: its time zone, working periods per weekday and holidays
// (PUT /calendars/{id}; If-Match with the version read, so a change made meanwhile is 412, not overwritten).
import { ApiError } from "../../api.js";
import { h } from "../../dom.js";
import { pageHeader } from "../common.js";
import { FormErrors } from "../form_errors.js";
import { adminOnly, submitting, takeFlash } from "./admin_page.js";
import { labelled, section, text } from "./kit.js";
import { rowList } from "./rows.js";

export const WEEKDAYS = [["MON", "Monday"], ["TUE", "Tuesday"], ["WED", "Wednesday"], ["THU", "Thursday"], ["FRI", "Friday"],
  ["SAT", "Saturday"], ["SUN", "Sunday"]];
const OFFICE_HOURS = [{ start: "09:00", end: "17:00" }];
const NEW_CALENDAR = {
  timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC", holidays: [],
  workingHours: Object.fromEntries(WEEKDAYS.slice(0, 5).map(([day]) => [day, OFFICE_HOURS])),
};
const calendarPath = (id) => `/calendars/${encodeURIComponent(id)}`;

export const calendarEditor = adminOnly(async (ctx, params) => {
  const isNew = !params.id;
  const calendar = isNew ? NEW_CALENDAR : await ctx.api.get(calendarPath(params.id));
  const errors = new FormErrors("The calendar was not saved.");
  const id = h("input", { id: "calendar-id", value: calendar.id || "", readonly: !isNew, autocomplete: "off", placeholder: "e.g. nl-office" });
  const name = h("input", { id: "calendar-name", value: calendar.name || "", autocomplete: "off" });
  const zone = h("input", { id: "calendar-zone", value: calendar.timeZone, list: "time-zones", autocomplete: "off" });
  const days = WEEKDAYS.map(([day, dayName]) => [day, rowList({
    noun: "Period", addText: `Add a period on ${dayName}`, empty: "Not a working day.", values: calendar.workingHours[day] || [],
    makeRow: (period, index) => periodRow(errors, `workingHours.${day}`, period, index),
  }), dayName]);
  const holidays = rowList({
    noun: "Holiday", addText: "Add a holiday", empty: "No holidays.", values: calendar.holidays || [],
    makeRow(date, index) {
      const input = h("input", { type: "date", value: date || "" });
      return { element: labelled(errors, () => `holidays[${index()}]`, "Date", input), read: () => input.value };
    },
  });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, isNew ? "Create calendar" : "Save calendar");

  function onSubmit(event) {
    event.preventDefault();
    const body = {
      name: text(name) || "", timeZone: text(zone) || "", holidays: holidays.read(),
      workingHours: Object.fromEntries(days.map(([day, list]) => [day, list.read()]).filter(([, periods]) => periods.length)),
    };
    submitting(submit, "Saving…", errors, {
      stale: "Someone changed this calendar meanwhile.", reloadPath: `/admin/calendars/${encodeURIComponent(calendar.id)}`, navigate: ctx.navigate,
      async save() {
        if (isNew) await refuseTaken(ctx, text(id));
        const saved = await ctx.api.put(calendarPath(isNew ? text(id) : calendar.id), body, isNew ? {} : { "If-Match": `"${calendar.version}"` });
        ctx.flash = `Calendar ${saved.id} saved (version ${saved.version}).`;
        ctx.navigate(`/admin/calendars/${encodeURIComponent(saved.id)}`);
      },
    });
  }

  const flash = takeFlash(ctx);
  return h("section", { class: "page page-narrow" },
    h("nav", { class: "breadcrumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/admin/calendars" }, "Calendars"), " / ",
      h("span", { class: "mono" }, isNew ? "New" : calendar.id)),
    pageHeader(isNew ? "New calendar" : calendar.name || calendar.id, isNew ? null : `Version ${calendar.version}.`),
    flash,
    h("form", { class: "form stack", onsubmit: onSubmit, novalidate: true, "aria-label": "Calendar" },
      errors.summary,
      section("Calendar", null,
        h("div", { class: "field-row" },
          labelled(errors, "calendarId", "Id", id, { hint: isNew ? "Letters, digits, '.', '_' and '-'. It cannot change later." : "An id never changes." }),
          labelled(errors, "name", "Name", name)),
        labelled(errors, "timeZone", "Time zone", zone, { hint: "An IANA time zone, e.g. Europe/Amsterdam. Working hours are local to it." }),
        h("datalist", { id: "time-zones" }, timeZones().map((z) => h("option", { value: z })))),
      section("Working hours", "Per weekday the periods people work, local time (HH:MM; 24:00 for midnight).",
        days.map(([day, list, dayName]) => h("fieldset", { class: "weekday", dataset: { day } }, h("legend", {}, dayName), list.element))),
      section("Holidays", "Days not worked, in the calendar's time zone.", holidays.element),
      h("div", { class: "form-actions" }, submit, h("a", { class: "btn btn-ghost", href: "#/admin/calendars" }, "Cancel"))));
});

// PUT creates or replaces: a new calendar must not replace one that has its id.
async function refuseTaken(ctx, id) {
  const refusal = (issue) => new ApiError(0, { error: { message: issue, details: [{ field: "calendarId", issue }] } });
  if (!id) throw refusal("this field is required");
  const existing = await ctx.api.get(calendarPath(id)).catch((error) => {
    if (error.status === 404) return null;
    throw error;
  });
  if (existing) throw refusal(`${id} exists already: open it from the calendars to change it`);
}

function periodRow(errors, dayPath, period, index) {
  const start = h("input", { value: period ? period.start : "09:00", class: "input-short", inputmode: "numeric", placeholder: "09:00" });
  const end = h("input", { value: period ? period.end : "17:00", class: "input-short", inputmode: "numeric", placeholder: "17:00" });
  return {
    element: h("div", { class: "row-fields" },
      labelled(errors, () => `${dayPath}[${index()}].start`, "Start", start), labelled(errors, () => `${dayPath}[${index()}].end`, "End", end)),
    read: () => ({ start: text(start) || "", end: text(end) || "" }),
  };
}

function timeZones() {
  return typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
}
