// Create a case type, or publish the next version of one (PUT with If-Match: a stale version is 412), retire
// it, and read its earlier versions. The API's 400 messages show next to the inputs their paths name.
import { errorBox, h, replace } from "../../dom.js";
import { badge, when } from "../../format.js";
import { pageHeader } from "../common.js";
import { FormErrors } from "../form_errors.js";
import { approvalSection, basicsSection, currenciesSection, documentsSection, slaSection, tasksSection } from "./case_type_sections.js";
import { fieldDefinitionsSection } from "./field_definitions_section.js";
import { adminOnly, submitting, takeFlash } from "./admin_page.js";

const NEW_TYPE = { slaHours: { LOW: 240, MEDIUM: 120, HIGH: 48, CRITICAL: 8 }, tasks: [], fields: [], requiredDocuments: [], currencies: {} };

function sections(errors, type, options) {
  return [basicsSection(errors, type, options), slaSection(errors, type), documentsSection(errors, type), tasksSection(errors, type),
    approvalSection(errors, type), currenciesSection(errors, type), fieldDefinitionsSection(errors, type)];
}

const typePath = (id) => `/case-types/${encodeURIComponent(id)}`;

export const caseTypeEditor = adminOnly(async (ctx, params) => {
  const isNew = !params.id;
  const [type, calendars, people] = await Promise.all([
    isNew ? NEW_TYPE : ctx.api.get(typePath(params.id)),
    ctx.api.all("/calendars").then((r) => r.items).catch(() => []), // without calendars the type can still be saved
    ctx.api.all("/personnel").then((r) => r.items).catch(() => []),
  ]);
  const teams = [...new Set(people.map((p) => p.team).filter(Boolean))].sort();
  const errors = new FormErrors(isNew ? "The case type was not created." : "The new version was not published.");
  const parts = sections(errors, type, { isNew, calendars, teams });
  const submit = h("button", { type: "submit", class: "btn btn-primary" }, isNew ? "Create case type" : `Publish version ${type.version + 1}`);

  function onSubmit(event) {
    event.preventDefault();
    const body = isNew ? {} : { assignment: type.assignment || [] };
    parts.forEach((part) => part.read(body));
    submitting(submit, isNew ? "Creating…" : "Publishing…", errors, {
      stale: "Someone published a newer version meanwhile.", reloadPath: `/admin/case-types/${encodeURIComponent(type.id)}`, navigate: ctx.navigate,
      async save() {
        const saved = isNew
          ? await ctx.api.post("/case-types", body)
          : await ctx.api.put(typePath(type.id), body, { "If-Match": `"${type.version}"` });
        ctx.flash = isNew ? `Case type ${saved.id} created.` : `Version ${saved.version} of ${saved.id} published.`;
        ctx.navigate(`/admin/case-types/${encodeURIComponent(saved.id)}`);
      },
    });
  }

  const flash = takeFlash(ctx);
  return h("section", { class: "page page-narrow type-editor" },
    breadcrumbs(isNew ? "New" : type.id),
    pageHeader(isNew ? "New case type" : type.name, isNew ? "Its first version is published when you create it." : published(type),
      type.retired ? badge("RETIRED") : null),
    flash,
    h("form", { class: "form stack", onsubmit: onSubmit, novalidate: true, "aria-label": "Case type" },
      errors.summary,
      parts.map((part) => part.element),
      h("div", { class: "form-actions" }, submit, h("a", { class: "btn btn-ghost", href: "#/admin/case-types" }, "Cancel"))),
    isNew ? null : versionsPanel(type),
    isNew || type.retired ? null : retirePanel(ctx, type));
});

export const caseTypeVersionPage = adminOnly(async (ctx, params) => {
  const type = await ctx.api.get(`${typePath(params.id)}/versions/${encodeURIComponent(params.version)}`);
  const parts = sections(new FormErrors(""), type, { isNew: false, calendars: [], teams: [] });
  return h("section", { class: "page page-narrow type-editor" },
    breadcrumbs(type.id, `Version ${type.version}`),
    pageHeader(`${type.name}, version ${type.version}`, published(type),
      h("a", { class: "btn btn-secondary", href: `#/admin/case-types/${encodeURIComponent(type.id)}` }, "Current version")),
    h("fieldset", { class: "readonly stack", disabled: true }, h("legend", { class: "visually-hidden" }, `Version ${type.version}, read only`),
      parts.map((part) => part.element)));
});

function breadcrumbs(...trail) {
  return h("nav", { class: "breadcrumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/admin/case-types" }, "Case types"),
    trail.map((step, i) => [" / ", i === 0 && trail.length > 1
      ? h("a", { href: `#/admin/case-types/${encodeURIComponent(step)}` }, step) : h("span", { class: "mono" }, step)]));
}

function published(type) {
  return `Version ${type.version}${type.publishedAt ? `, published ${when(type.publishedAt)}` : ""}${type.publishedBy ? ` by ${type.publishedBy}` : ""}.`;
}

function versionsPanel(type) {
  const versions = Array.from({ length: type.version }, (_, i) => type.version - i);
  return h("section", { class: "panel", "aria-labelledby": "versions-heading" },
    h("h2", { id: "versions-heading" }, "Versions"),
    h("p", { class: "hint" }, "A case keeps the version it was opened under; publishing never changes a running case."),
    h("ul", { class: "versions-list" }, versions.map((v) => h("li", {},
      h("a", { href: `#/admin/case-types/${encodeURIComponent(type.id)}/versions/${v}` }, `Version ${v}`),
      v === type.version ? h("span", { class: "muted small" }, " (current)") : null))));
}

function retirePanel(ctx, type) {
  const status = h("div", { role: "alert" });
  const confirmBox = h("div", { class: "confirm", hidden: true, role: "group", "aria-labelledby": "retire-question" },
    h("p", { id: "retire-question" }, h("strong", {}, `Retire ${type.name}?`),
      " No new case can be opened with it; running cases go on under their version. This cannot be undone here."),
    h("div", { class: "form-actions" },
      h("button", { type: "button", class: "btn btn-reject", onclick: retire }, `Retire ${type.id}`),
      h("button", { type: "button", class: "btn btn-ghost", onclick: () => { confirmBox.hidden = true; ask.hidden = false; ask.focus(); } }, "Keep it")));
  const ask = h("button", { type: "button", class: "btn btn-reject", onclick: () => {
    ask.hidden = true;
    confirmBox.hidden = false;
    confirmBox.querySelector("button").focus();
  } }, "Retire this type…");

  async function retire(event) {
    event.target.disabled = true;
    try {
      await ctx.api.post(`${typePath(type.id)}/retire`);
      ctx.flash = `${type.id} is retired: it opens no new cases.`;
      ctx.navigate(`/admin/case-types/${encodeURIComponent(type.id)}`);
    } catch (error) {
      event.target.disabled = false;
      replace(status, errorBox(error));
    }
  }

  return h("section", { class: "panel", "aria-labelledby": "retire-heading" },
    h("h2", { id: "retire-heading" }, "Retire"), ask, confirmBox, status);
}
