// Admin: the knowledge base the automatic answers come from. Entries of config/knowledge show as
// such; editing one stores an override, "Reset" brings the file's text back.

import { api } from "../../api.js";
import { clear, h, select, toast } from "../../dom.js";
import { known, label, t } from "../../i18n.js";
import { field, guarded, panel } from "./common.js";
import { lines, origin, saving } from "./settings_form.js";

const enc = encodeURIComponent;

function entryForm(item, done) {
  const e = item || { id: "", language: "zh", category: null, title: "", questions: [], answer: "",
    short_answer: null };
  const area = (name, value, rows) => h("textarea", { name, rows, testid: `kb-${name}` }, value || "");
  const form = h("form", { class: "form", testid: "kb-form" },
    h("p", { class: "form-error", hidden: true, testid: "kb-form-error" }),
    field("id", `${t("entry_id")} *`, h("input", { name: "id", value: e.id, disabled: Boolean(item), testid: "kb-id" })),
    field("language", t("language"), select({ name: "language", disabled: Boolean(item), testid: "kb-language" },
      [["zh", label("language", "zh")], ["en", label("language", "en")]], e.language)),
    field("category", t("category"), select({ name: "category" },
      [["", t("any")], ...known("category").map((c) => [c, label("category", c)])], e.category)),
    field("title", `${t("title")} *`, h("input", { name: "title", value: e.title, testid: "kb-title" })),
    field("questions", `${t("questions")} * (${t("one_per_line")})`, area("questions", e.questions.join("\n"), 4)),
    field("answer", `${t("answer")} *`, area("answer", e.answer, 5)),
    field("short_answer", t("short_answer"), area("short_answer", e.short_answer, 2)),
    h("div", { class: "form-actions" },
      h("button", { class: "primary", testid: "kb-save" }, t("save_settings")),
      h("button", { type: "button", onclick: () => form.closest(".panel").remove() }, t("cancel"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const el = form.elements;
    const body = { id: item ? item.id : el.id.value.trim(), language: item ? item.language : el.language.value,
      category: el.category.value || null, title: el.title.value.trim(), questions: lines(el.questions.value),
      answer: el.answer.value.trim(), short_answer: el.short_answer.value.trim() || null };
    const call = item
      ? () => api(`/api/v1/settings/knowledge/${enc(item.id)}`, { method: "PUT", body })
      : () => api("/api/v1/settings/knowledge", { method: "POST", body });
    if (await saving(form, call)) done();
  });
  return form;
}

function entry(item, edit, done) {
  const remove = item.source === "console" && h("button", { class: "small danger", testid: "kb-remove",
    onclick: () => guarded(async () => {
      if (!item.overrides_file && !confirm(t("confirm_delete", { x: item.title }))) return;
      await api(`/api/v1/settings/knowledge/${enc(item.id)}`, { method: "DELETE", query: { language: item.language } });
      done();
    }) }, item.overrides_file ? t("reset") : t("delete"));
  return h("article", { class: "kb-entry", testid: "kb-entry",
    dataset: { search: `${item.title} ${item.questions.join(" ")} ${item.answer}`.toLowerCase(), id: item.id } },
  h("div", { class: "chips" }, h("strong", {}, item.title),
    h("span", { class: "tag" }, label("language", item.language)),
    h("span", { class: "tag category" }, item.category ? label("category", item.category) : t("any")),
    origin(item),
    h("button", { class: "small", testid: "kb-edit", onclick: () => edit(item) }, t("edit")), remove),
  h("div", { class: "chips" }, item.questions.map((q) => h("span", { class: "tag" }, q))),
  h("p", { testid: "kb-answer" }, item.answer),
  item.short_answer && h("p", { class: "muted", testid: "kb-short-answer" }, item.short_answer));
}

export async function renderKnowledge(box, ctx) {
  const kb = await api("/api/v1/settings/knowledge");
  const done = () => { toast(t("saved")); renderKnowledge(box, ctx); };
  const slot = h("div");
  const edit = (item) => {
    clear(slot, panel(item ? t("edit_title", { x: item.title }) : t("add_entry"), null, entryForm(item, done)));
    slot.scrollIntoView({ block: "nearest" });
  };
  const list = h("div", {}, kb.entries.map((item) => entry(item, edit, done)));
  const filter = h("input", { type: "search", placeholder: t("filter"), testid: "kb-filter",
    oninput: (e) => list.querySelectorAll(".kb-entry").forEach((el) => {
      el.hidden = !el.dataset.search.includes(e.target.value.trim().toLowerCase());
    }) });
  const thresholds = Object.entries(kb.thresholds).map(([k, v]) => `${k}: ${v}`).join(" · ");
  clear(box, slot, panel(`${t("knowledge")} (${kb.entries.length})`,
    h("div", { class: "actions" }, filter,
      h("button", { class: "primary", testid: "add-kb-entry", onclick: () => edit(null) }, t("add_entry"))),
    h("p", { class: "muted" }, `${t("settings_note")} ${kb.directory} · ${t("thresholds")} ${thresholds}`),
    kb.error && h("div", { class: "error-box" }, kb.error), list));
  return null;
}
