// What the admin pages share: panels, tables, forms whose errors are keyed by field.

import { ApiError } from "../../api.js";
import { h, toast } from "../../dom.js";
import { label, t } from "../../i18n.js";

export function panel(title, actions, ...content) {
  return h("section", { class: "panel" },
    h("div", { class: "panel-head" }, h("h2", {}, title), h("div", { class: "actions" }, actions)),
    content);
}

/** A table: columns are [title, cell(row)] pairs; rows get data-testid `${testid}-row`. */
export function table(columns, rows, testid) {
  return h("table", { class: "grid", testid },
    h("thead", {}, h("tr", {}, columns.map(([title]) => h("th", {}, title)))),
    h("tbody", {}, rows.map((row) => h("tr", { testid: `${testid}-row` },
      columns.map(([, cell]) => h("td", {}, cell(row)))))));
}

/** The text for an error code (translated when known). */
export function errorText(code, fallback) {
  const text = label("error", code);
  return text === code && fallback ? fallback : text;
}

/** Show an API refusal on a form: each field's code under it, the rest at the top. */
export function showErrors(form, error) {
  form.querySelectorAll(".field-error").forEach((el) => { el.textContent = ""; });
  const top = form.querySelector(".form-error");
  if (top) { top.hidden = true; top.textContent = ""; }
  if (!(error instanceof ApiError)) return toast(t("network_error"), "error");
  for (const [field, code] of Object.entries(error.errors)) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(field)}"]`);
    if (slot && field !== "base") slot.textContent = errorText(code);
    else if (top) {
      top.hidden = false;
      top.textContent = errorText(code, error.message);
    } else toast(errorText(code, error.message), "error");
  }
  return null;
}

/** A labelled input with its error slot. */
export function field(name, title, input, hint) {
  return h("label", { class: input.type === "checkbox" ? "check" : "" },
    input.type === "checkbox" ? [input, title] : [title, input],
    hint && h("span", { class: "hint" }, hint),
    h("span", { class: "field-error", testid: `field-error-${name}`, dataset: { errorFor: name } }));
}

/** Checkboxes for a list of values; `.values()` reads the checked ones. */
export function checks(name, options, chosen = []) {
  const box = h("div", { class: "checks", testid: `checks-${name}` }, options.map(([value, text]) =>
    h("label", {}, h("input", { type: "checkbox", value, checked: chosen.includes(value) }), text)));
  box.values = () => [...box.querySelectorAll("input:checked")].map((i) => i.value);
  return box;
}

/** A titled group of inputs (checkboxes), not a <label>: each box has its own. */
export function group(title, content) {
  return h("div", { class: "group" }, h("span", {}, title), content);
}

export function yesNo(value) {
  return h("span", { class: value ? "tag ok" : "tag" }, value ? t("yes") : t("no"));
}

export async function guarded(fn, form) {
  try {
    return await fn();
  } catch (error) {
    if (form) showErrors(form, error);
    else toast(error instanceof ApiError ? errorText(Object.values(error.errors)[0], error.message)
      : t("network_error"), "error");
    return null;
  }
}
