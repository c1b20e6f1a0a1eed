// Rows a person adds and removes (tasks, fields, currencies, holidays, working periods): `makeRow(value,
// index)` builds one row ({element, read}); `index()` is the row's place at the time it is asked, so the paths
// of the API's messages (`tasks[1].type`) still find the row after one above it was removed.
import { announce, h } from "../../dom.js";

export function rowList({ noun, addText, makeRow, values = [], empty = "None." }) {
  const rows = [];
  const list = h("div", { class: "rows" });
  const emptyNote = h("p", { class: "muted small" }, empty);
  const addButton = h("button", { type: "button", class: "btn btn-secondary btn-small" }, addText);
  const firstControl = (row) => row.element.querySelector("input, select, textarea");

  function renumber() {
    rows.forEach((row, i) => {
      row.legend.textContent = `${noun} ${i + 1}`;
      row.remove.setAttribute("aria-label", `Remove ${noun.toLowerCase()} ${i + 1}`);
    });
    emptyNote.hidden = rows.length > 0;
  }

  function remove(row) {
    const at = rows.indexOf(row);
    rows.splice(at, 1);
    row.element.remove();
    renumber();
    announce(`${noun} ${at + 1} removed`);
    (rows[at] ? firstControl(rows[at]) : addButton).focus();
  }

  function add(value) {
    const row = {};
    const built = makeRow(value, () => rows.indexOf(row));
    row.read = built.read;
    row.legend = h("legend", {});
    row.remove = h("button", { type: "button", class: "btn btn-ghost btn-small row-remove", onclick: () => remove(row) }, "Remove");
    row.element = h("fieldset", { class: "row" }, row.legend, h("div", { class: "row-body" }, built.element, row.remove));
    rows.push(row);
    list.append(row.element);
    renumber();
    return row;
  }

  addButton.addEventListener("click", () => firstControl(add(null)).focus());
  values.forEach((value) => add(value));
  renumber();
  return {
    element: h("div", { class: "row-list" }, list, emptyNote, addButton),
    read: () => rows.map((row) => row.read()),
  };
}
