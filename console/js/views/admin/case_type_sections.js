// The case type editor's sections, each {element, read(body)}: read writes its part of the PUT/POST body.
// Assignment rules and per-task SLAs have no inputs yet: they are kept as the type has them.
import { h } from "../../dom.js";
import { checkbox, labelled, number, PRIORITIES, section, text } from "./kit.js";
import { rowList } from "./rows.js";

export function basicsSection(errors, type, { isNew, calendars, teams }) {
  const id = h("input", { id: "type-id", value: type.id || "", autocomplete: "off", readonly: !isNew, placeholder: "e.g. WARRANTY_CLAIM" });
  const name = h("input", { id: "type-name", value: type.name || "", autocomplete: "off", maxlength: 100 });
  const team = h("input", { id: "type-team", value: type.team || "", autocomplete: "off", list: "known-teams" });
  const calendar = h("select", { id: "type-calendar" }, h("option", { value: "" }, "None: SLAs run in calendar time"),
    calendars.map((c) => h("option", { value: c.id, selected: c.id === type.calendar }, c.name ? `${c.name} (${c.id})` : c.id)));
  if (type.calendar && !calendars.some((c) => c.id === type.calendar)) calendar.append(h("option", { value: type.calendar, selected: true }, type.calendar));
  return {
    element: section("Basics", null,
      h("div", { class: "field-row" },
        labelled(errors, "id", "Id", id, { hint: isNew ? "Upper case letters, digits and _. It cannot change later." : "An id never changes." }),
        labelled(errors, "name", "Name", name)),
      h("div", { class: "field-row" },
        labelled(errors, "team", "Team", team, { hint: "Empty: the team of whoever opens the case." }),
        labelled(errors, "calendar", "Calendar", calendar, { hint: "The working time its SLAs and task due dates count in." })),
      h("datalist", { id: "known-teams" }, teams.map((t) => h("option", { value: t })))),
    read(body) {
      if (isNew) body.id = text(id) || "";
      body.name = text(name) || "";
      if (text(team)) body.team = text(team);
      body.calendar = calendar.value || null;
    },
  };
}

export function slaSection(errors, type) {
  const hours = Object.fromEntries(PRIORITIES.map((p) => [p,
    h("input", { id: `sla-${p}`, inputmode: "numeric", value: (type.slaHours || {})[p] ?? "", class: "input-short" })]));
  return {
    element: section("SLA", "Hours from opening until a case of each priority is due.",
      h("div", { class: "field-grid" }, PRIORITIES.map((p, i) =>
        labelled(errors, i === 0 ? "slaHours" : `slaHours.${p}`, `${p.charAt(0)}${p.slice(1).toLowerCase()} (hours)`, hours[p])))),
    read(body) {
      body.slaHours = {};
      for (const p of PRIORITIES) if (number(hours[p]) !== undefined) body.slaHours[p] = number(hours[p]);
    },
  };
}

export function documentsSection(errors, type) {
  const list = rowList({
    noun: "Document", addText: "Add a document", empty: "No documents are required.", values: type.requiredDocuments || [],
    makeRow(value, index) {
      const kind = h("input", { value: value || "", autocomplete: "off", placeholder: "e.g. claim-form" });
      return { element: labelled(errors, () => `requiredDocuments[${index()}]`, "Document kind", kind), read: () => text(kind) || "" };
    },
  });
  return {
    element: section("Required documents", "The kinds of document a case waits for before its work goes on.", list.element),
    read(body) { body.requiredDocuments = list.read(); },
  };
}

export function tasksSection(errors, type) {
  const list = rowList({
    noun: "Task", addText: "Add a task", empty: "The workflow creates no tasks.", values: type.tasks || [],
    makeRow(task, index) {
      const kind = h("input", { value: task ? task.type : "", autocomplete: "off", placeholder: "e.g. INSPECT" });
      const title = h("input", { value: task ? task.title : "", autocomplete: "off" });
      const required = checkbox(errors, () => `tasks[${index()}].required`, "The workflow waits for it", task ? task.required !== false : true);
      return {
        element: h("div", { class: "row-fields" },
          labelled(errors, () => `tasks[${index()}].type`, "Type", kind),
          labelled(errors, () => `tasks[${index()}].title`, "Title", title), required.element),
        read: () => ({ ...(task || {}), type: text(kind) || "", title: text(title) || "", required: required.input.checked }),
      };
    },
  });
  return {
    element: section("Tasks", "Created for every case of the type when its workflow assigns the work.", list.element),
    read(body) { body.tasks = list.read(); },
  };
}

export function approvalSection(errors, type) {
  const required = checkbox(errors, "approvalRequired", "Every case needs an approval", type.approvalRequired);
  const levels = (type.approvalPolicy && type.approvalPolicy.secondLevelPriorities) || [];
  // All four answer for the list's path; the API's message shows by the first.
  const second = PRIORITIES.map((p) => [p, checkbox(errors, "approvalPolicy.secondLevelPriorities", p.charAt(0) + p.slice(1).toLowerCase(), levels.includes(p))]);
  return {
    element: section("Approval policy", null, required.element,
      h("fieldset", {}, h("legend", {}, "A second approver at these priorities"),
        h("div", { class: "checks-row" }, second.map(([, c]) => c.element)))),
    read(body) {
      body.approvalRequired = required.input.checked;
      body.approvalPolicy = { ...(type.approvalPolicy || {}), secondLevelPriorities: second.filter(([, c]) => c.input.checked).map(([p]) => p) };
    },
  };
}

export function currenciesSection(errors, type) {
  const list = rowList({
    noun: "Currency", addText: "Add a currency", empty: "No compensation can be asked for.",
    values: Object.entries(type.currencies || {}).map(([code, rules]) => ({ code, ...rules })),
    makeRow(value, index) {
      const code = h("input", { value: value ? value.code : "", maxlength: 3, class: "input-short", autocomplete: "off", placeholder: "EUR" });
      const cap = h("input", { value: (value && value.cap) || "", inputmode: "decimal", placeholder: "50000.00" });
      const above = h("input", { value: (value && value.secondLevelAbove) || "", inputmode: "decimal", placeholder: "1000.00" });
      const path = (name) => () => `currencies.${text(code) || ""}${name ? `.${name}` : ""}`;
      return {
        element: h("div", { class: "row-fields" },
          labelled(errors, path(""), "Code", code, { hint: "ISO 4217" }),
          labelled(errors, path("cap"), "Cap", cap, { hint: "Empty: no cap" }),
          labelled(errors, path("secondLevelAbove"), "Second approver above", above, { hint: "Empty: never by amount" })),
        read: () => ({ code: text(code) || "", cap: text(cap), secondLevelAbove: text(above) }),
      };
    },
  });
  return {
    element: section("Compensation", "The currencies a case of the type may ask compensation in, with their caps.", list.element),
    read(body) {
      body.currencies = {};
      for (const { code, cap, secondLevelAbove } of list.read()) body.currencies[code] = { cap: cap ?? null, secondLevelAbove: secondLevelAbove ?? null };
    },
  };
}
