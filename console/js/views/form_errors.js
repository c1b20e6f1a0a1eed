// A form's messages from the API: each 400 detail is shown next to the control its path names (or the
// nearest one registered: `tasks[1].type`, else `tasks[1]`, else `tasks`) and listed in a summary that takes
// the focus; a detail naming nothing on the form is listed in the summary only.
import { h, replace, uid } from "../dom.js";

// pydantic names list items `tasks.1.type`, the domain's checks `tasks[1].type`: one spelling for both.
export function canonicalPath(path) {
  return String(path || "").replace(/\.(\d+)(?=[.[]|$)/g, "[$1]");
}

function parentPath(path) {
  const cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
  return cut > 0 ? path.slice(0, cut) : null;
}

export function capitalise(text) {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : text;
}

// What the person sees the control called: its label, after the legend of the row it sits in ("Task 2 type").
function labelOf(control) {
  const label = control.labels && control.labels[0] ? control.labels[0].textContent.trim() : "";
  const row = control.closest("fieldset.row");
  const legend = row ? row.querySelector("legend").textContent.trim() : "";
  return [legend, legend ? label.toLowerCase() : label].filter(Boolean).join(" ");
}

export class FormErrors {
  constructor(failedText) {
    this.failedText = failedText;
    this.summary = h("div", { class: "alert alert-error", role: "alert", tabindex: "-1", hidden: true });
    this.targets = [];
  }

  // Registers `control` for `path` (a string, or a function giving it when the errors come: rows move when
  // one above is removed); returns the element showing its message, to be placed next to the control.
  target(path, control, label) {
    const message = h("p", { class: "field-error", id: control.id ? `${control.id}-error` : uid("error"), hidden: true });
    control.setAttribute("aria-describedby", [control.getAttribute("aria-describedby"), message.id].filter(Boolean).join(" "));
    this.targets.push({ path, control, message, label });
    return message;
  }

  clear() {
    this.summary.hidden = true;
    // Controls of removed rows are gone for good; while the form is not on the page yet, none is.
    if (this.summary.isConnected) this.targets = this.targets.filter((t) => t.control.isConnected);
    for (const t of this.targets) {
      t.message.hidden = true;
      t.message.textContent = "";
      t.control.removeAttribute("aria-invalid");
    }
  }

  find(path) {
    const live = new Map();
    for (const t of this.targets) {
      const p = canonicalPath(typeof t.path === "function" ? t.path() : t.path);
      if (t.control.isConnected && !live.has(p)) live.set(p, t);
    }
    for (let p = canonicalPath(path); p; p = parentPath(p)) if (live.has(p)) return live.get(p);
    return null;
  }

  // `reword(detail, target)`: the issue as the person should read it (e.g. "required" for an empty field).
  show(error, reword = (detail) => detail.issue) {
    this.clear();
    const listed = [];
    for (const detail of error.details || []) {
      const t = this.find(detail.field);
      const issue = reword(detail, t);
      const name = (t && (t.label || labelOf(t.control))) || detail.field;
      // "is required" reads as the end of a sentence about the field: "Hours of use is required".
      const text = /^is\b/.test(issue) ? `${name} ${issue}` : `${name}: ${issue}`;
      if (t) {
        const own = /^is\b/.test(issue) ? text : capitalise(issue);
        t.message.textContent = t.message.hidden ? own : `${t.message.textContent}; ${issue}`;
        t.message.hidden = false;
        t.control.setAttribute("aria-invalid", "true");
      }
      listed.push(h("li", {}, t
        ? h("a", { href: `#${t.control.id}`, onclick: (event) => { event.preventDefault(); t.control.focus(); } }, text)
        : text));
    }
    replace(this.summary, h("strong", {}, listed.length ? `${this.failedText} Please correct:` : this.failedText),
      listed.length ? h("ul", {}, listed) : h("p", {}, error.message));
    this.summary.hidden = false;
    this.summary.focus();
  }

  // A refusal that no field explains (412, 409, ...), with an optional way out.
  message(title, text, action) {
    this.clear();
    replace(this.summary, h("strong", {}, title), " ", text, action || null);
    this.summary.hidden = false;
    this.summary.focus();
  }
}
