// Documents: the case's evidence with each one's processing status, its versions and downloads, and an
// upload that goes straight to S3 through the presigned POST the API hands out, with a progress bar.
import { uploadToS3 } from "../../api.js";
import { announce, errorBox, h, replace, spinner, uid } from "../../dom.js";
import { badge, bytes, label, timeElement } from "../../format.js";

const TYPES_BY_EXTENSION = { pdf: "application/pdf", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", txt: "text/plain", zip: "application/zip" };

export function contentTypeOf(file) {
  if (file.type) return file.type;
  const extension = (file.name.split(".").pop() || "").toLowerCase();
  return TYPES_BY_EXTENSION[extension] || "application/octet-stream";
}

async function sha256Hex(file) {
  if (!crypto.subtle) return undefined; // only in secure contexts; the processor computes it anyway
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function documentsPanel(ctx, caseRecord, onChange) {
  const base = `/cases/${encodeURIComponent(caseRecord.id)}/documents`;
  const open = new Set();
  const list = h("div", { class: "documents" });
  const required = h("ul", { class: "checklist", "aria-label": "Required documents" });
  const mayUpload = ctx.session.can("caseworker", "supervisor");

  function uploader({ documentId = null, title = "Upload a document" } = {}) {
    const fileId = uid("file");
    const kindId = uid("kind");
    const file = h("input", { id: fileId, type: "file", accept: ".pdf,.png,.jpg,.jpeg,.txt,.zip,application/pdf,image/png,image/jpeg,text/plain,application/zip" });
    const kind = documentId ? null : h("select", { id: kindId },
      h("option", { value: "" }, "Other evidence"), (caseRecord.requiredDocuments || []).map((k) => h("option", { value: k }, label(k))));
    const progress = h("progress", { max: 100, value: 0, hidden: true, "aria-label": "Upload progress" });
    const status = h("p", { class: "upload-status", role: "status" });
    const error = h("div", { role: "alert" });
    const button = h("button", { type: "submit", class: "btn btn-primary btn-small" }, documentId ? "Upload version" : "Upload");

    async function submit(event) {
      event.preventDefault();
      replace(error);
      const chosen = file.files[0];
      if (!chosen) {
        replace(error, h("p", { class: "field-error" }, "Choose a file first."));
        return file.focus();
      }
      button.disabled = true;
      try {
        status.textContent = "Preparing…";
        const body = { filename: chosen.name, contentType: contentTypeOf(chosen), size: chosen.size };
        const digest = await sha256Hex(chosen);
        if (digest) body.sha256 = digest;
        if (kind && kind.value) body.kind = kind.value;
        const ticket = await ctx.api.post(documentId ? `${base}/${encodeURIComponent(documentId)}/versions` : base, body);
        progress.hidden = false;
        progress.value = 0;
        await uploadToS3(ticket.upload, chosen, (fraction) => {
          progress.value = Math.round(fraction * 100);
          status.textContent = `Uploading… ${progress.value}%`;
        });
        progress.value = 100;
        status.textContent = `Uploaded “${chosen.name}”. Its check shows in the list above.`;
        announce(`Uploaded ${chosen.name}; it is being checked`);
        file.value = "";
        onChange();
      } catch (failure) {
        status.textContent = "";
        progress.hidden = true;
        const issues = (failure.details || []).map((d) => h("li", {}, `${label(d.field)}: ${d.issue}`));
        replace(error, h("div", { class: "alert alert-error small" }, h("strong", {}, "The upload failed. "), failure.message, issues.length ? h("ul", {}, issues) : null));
      } finally {
        button.disabled = false;
      }
    }

    return h("form", { class: "upload", onsubmit: submit, novalidate: true, "aria-label": title },
      h("div", { class: "upload-row" },
        h("div", { class: "field" }, h("label", { for: fileId }, documentId ? "New version" : "File"), file),
        kind ? h("div", { class: "field" }, h("label", { for: kindId }, "Counts as"), kind) : null,
        button),
      progress, status, error,
      documentId ? null : h("p", { class: "hint" }, "PDF, PNG, JPEG, text or ZIP, up to 25 MiB. Every upload is checked before it counts."));
  }

  async function versions(doc, container) {
    replace(container, spinner("Loading versions…"));
    try {
      const detail = await ctx.api.get(`${base}/${encodeURIComponent(doc.id)}`);
      replace(container,
        h("table", { class: "versions" },
          h("caption", { class: "visually-hidden" }, `Versions of ${doc.filename}`),
          h("thead", {}, h("tr", {}, ["Version", "Status", "Size", "SHA-256", "Uploaded", ""].map((c) => h("th", { scope: "col" }, c)))),
          h("tbody", {}, [...detail.versions].reverse().map((v, index) => h("tr", {},
            h("td", {}, `v${detail.versions.length - index}`, v.latest ? h("span", { class: "tag" }, "latest") : null),
            h("td", {}, badge(v.status), v.reasons && v.reasons.length ? h("div", { class: "reasons" }, v.reasons.join("; ")) : null),
            h("td", {}, bytes(v.size)),
            h("td", { class: "mono small", title: v.sha256 || "" }, v.sha256 ? `${v.sha256.slice(0, 12)}…` : "—"),
            h("td", {}, timeElement(v.uploadedAt)),
            h("td", {}, v.status === "READY" ? downloadButton(doc, v.versionId) : null))))),
        mayUpload && !doc.deleted ? uploader({ documentId: doc.id, title: `Upload a new version of ${doc.filename}` }) : null);
    } catch (error) {
      replace(container, errorBox(error, { retry: () => versions(doc, container) }));
    }
  }

  function downloadButton(doc, versionId) {
    const button = h("button", { type: "button", class: "btn btn-small btn-ghost", "aria-label": `Download ${doc.filename}` }, "Download");
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const link = await ctx.api.get(`${base}/${encodeURIComponent(doc.id)}/download`, { versionId });
        const anchor = h("a", { href: link.url, rel: "noopener" });
        document.body.append(anchor);
        anchor.click();
        anchor.remove();
        announce(`Download of ${doc.filename} started`);
      } catch (error) {
        button.after(h("span", { class: "inline-error", role: "alert" }, error.message));
      } finally {
        button.disabled = false;
      }
    });
    return button;
  }

  function render(documents) {
    const readyKinds = new Set(documents.filter((d) => d.status === "READY" && d.kind).map((d) => d.kind));
    replace(required, (caseRecord.requiredDocuments || []).map((k) => h("li", { class: readyKinds.has(k) ? "done" : null },
      h("span", { class: "check", "aria-hidden": "true" }, readyKinds.has(k) ? "✓" : "○"), label(k), " ",
      h("span", { class: "muted small" }, readyKinds.has(k) ? "ready" : "still needed"))));
    replace(list, documents.length ? documents.map((doc) => {
      const body = h("div", { class: "doc-versions" });
      const details = h("details", { class: "doc", open: open.has(doc.id), dataset: { documentId: doc.id } },
        h("summary", {},
          h("span", { class: "doc-icon", "aria-hidden": "true" }, (doc.filename.split(".").pop() || "").slice(0, 4).toUpperCase()),
          h("span", { class: "doc-name" }, h("strong", {}, doc.filename), h("span", { class: "muted small" },
            [doc.kind ? label(doc.kind) : "Evidence", `${doc.versionCount} version${doc.versionCount === 1 ? "" : "s"}`, `by ${doc.createdBy}`].join(" · "))),
          badge(doc.status, { prefix: "Processing" })),
        body);
      details.addEventListener("toggle", () => {
        if (details.open) { open.add(doc.id); versions(doc, body); } else open.delete(doc.id);
      });
      if (details.open) versions(doc, body);
      return details;
    }) : h("p", { class: "empty" }, "No documents yet."));
  }

  const element = h("section", { class: "panel", id: "documents", "aria-labelledby": "documents-heading" },
    h("h2", { id: "documents-heading" }, "Documents"),
    (caseRecord.requiredDocuments || []).length ? required : null,
    list,
    mayUpload ? uploader() : null);
  return { element, update: render };
}
