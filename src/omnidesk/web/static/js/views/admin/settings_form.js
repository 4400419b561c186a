// What the desk-settings editors share: where an entry comes from, date lists, and the server's
// refusals shown next to the fields (its own words too: they say what the file's checks say).

import { ApiError } from "../../api.js";
import { h, toast } from "../../dom.js";
import { t } from "../../i18n.js";
import { errorText } from "./common.js";

/** "console / overrides the config file", "config file" or "built in", as a tag. */
export function origin(row) {
  const text = row.source === "console"
    ? `${t("from_console")}${row.overrides_file ? ` · ${t("overrides_file")}` : ""}`
    : t(row.source === "file" ? "from_file" : "from_default");
  return h("span", { class: row.source === "console" ? "tag ok" : "tag", testid: "setting-source" }, text);
}

/** Show an API refusal on a settings form: each field's problem under it, the rest on top. */
export function showProblems(form, error) {
  form.querySelectorAll(".field-error").forEach((el) => { el.textContent = ""; });
  const top = form.querySelector(".form-error");
  top.hidden = true;
  top.textContent = "";
  if (!(error instanceof ApiError)) return toast(t("network_error"), "error");
  const messages = error.body?.messages || {};
  const lines = [];
  for (const [name, code] of Object.entries(error.errors)) {
    const said = messages[name];
    const known = errorText(code, "");
    const text = [known !== code ? known : "", said].filter(Boolean).join(" ") || said || code;
    const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
    if (slot && name !== "base") slot.textContent = text;
    else lines.push(name === "base" ? text : `${name}: ${text}`);
  }
  if (lines.length) {
    top.hidden = false;
    top.textContent = lines.join(" ");
  }
  return null;
}

/** Run a save; on refusal show it on the form and answer null. */
export async function saving(form, fn) {
  try {
    return await fn();
  } catch (error) {
    showProblems(form, error);
    return null;
  }
}

/** A list of dates with a date picker to add one; `.values()` reads them, sorted. */
export function dateList(name, dates) {
  const chosen = new Set(dates);
  const chips = h("div", { class: "chips", testid: `dates-${name}` });
  const draw = () => chips.replaceChildren(...[...chosen].sort().map((day) =>
    h("span", { class: "tag", testid: `date-${name}` }, day, " ",
      h("button", { type: "button", class: "small", title: t("remove"), "aria-label": `${t("remove")} ${day}`,
        onclick: () => { chosen.delete(day); draw(); } }, "×"))));
  const input = h("input", { type: "date", testid: `date-input-${name}` });
  const add = () => {
    if (input.value) chosen.add(input.value);
    input.value = "";
    draw();
  };
  draw();
  const box = h("div", { class: "date-list" }, chips,
    h("div", { class: "chips" }, input,
      h("button", { type: "button", class: "small", testid: `date-add-${name}`, onclick: add }, t("add_date"))));
  box.values = () => [...chosen].sort();
  return box;
}

/** Lines of a textarea as a list (blank lines dropped). */
export function lines(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean);
}
