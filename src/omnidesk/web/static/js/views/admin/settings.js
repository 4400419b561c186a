// Admin: business hours, SLA policies and the knowledge base (read-only: the config file's).

import { api } from "../../api.js";
import { clear, h } from "../../dom.js";
import { label, t } from "../../i18n.js";
import { panel, table } from "./common.js";

function weekdays(days) {
  const names = t("weekdays").split(",");
  return days.map((d) => names[d]).join(" ");
}

export async function renderHours(box) {
  const [hours, policies] = await Promise.all([api("/api/v1/settings/hours"), api("/api/v1/settings/sla")]);
  clear(box,
    panel(t("hours"), null, h("p", { class: "muted" }, t("config_file_note")), table([
      [t("name"), (x) => h("strong", {}, x.name)], [t("time_zone"), (x) => x.time_zone],
      [t("opens"), (x) => x.opens], [t("closes"), (x) => x.closes],
      [t("workdays"), (x) => weekdays(x.workdays)],
      [t("holidays"), (x) => String(x.holidays.length)],
    ], hours, "hours")),
    panel(t("policies"), null, table([
      [t("name"), (p) => h("strong", {}, p.name)],
      [t("priority"), (p) => (p.priority ? label("priority", p.priority) : t("any"))],
      [t("category"), (p) => (p.category ? label("category", p.category) : t("any"))],
      [t("first_response"), (p) => p.first_response], [t("resolution"), (p) => p.resolution],
      [t("clock"), (p) => p.clock],
    ], policies, "sla")));
  return null;
}

function entry(item) {
  return h("article", { class: "kb-entry", testid: "kb-entry",
    dataset: { search: `${item.title} ${item.questions.join(" ")} ${item.answer}`.toLowerCase() } },
  h("div", { class: "chips" }, h("strong", {}, item.title),
    h("span", { class: "tag" }, label("language", item.language)),
    h("span", { class: "tag category" }, item.category ? label("category", item.category) : t("any"))),
  h("div", { class: "chips" }, item.questions.map((q) => h("span", { class: "tag" }, q))),
  h("p", {}, item.answer));
}

export async function renderKnowledge(box) {
  const kb = await api("/api/v1/settings/knowledge");
  const list = h("div", {}, kb.entries.map(entry));
  const filter = h("input", { type: "search", placeholder: t("filter"), testid: "kb-filter",
    oninput: (e) => list.querySelectorAll(".kb-entry").forEach((el) => {
      el.hidden = !el.dataset.search.includes(e.target.value.trim().toLowerCase());
    }) });
  const thresholds = Object.entries(kb.thresholds).map(([k, v]) => `${k}: ${v}`).join(" · ");
  clear(box, panel(`${t("knowledge")} (${kb.entries.length})`, filter,
    h("p", { class: "muted" }, `${t("config_file_note")} ${kb.directory} · ${t("thresholds")} ${thresholds}`),
    kb.error && h("div", { class: "error-box" }, kb.error), list));
  return null;
}
