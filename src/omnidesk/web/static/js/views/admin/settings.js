// Admin: business hours and holidays, SLA policies and reply templates. The config file's
// entries show as such; saving one here overrides it, "Reset" brings the file's back.

import { api } from "../../api.js";
import { clear, h, select, toast } from "../../dom.js";
import { known, label, t } from "../../i18n.js";
import { checks, field, group, guarded, panel, table } from "./common.js";
import { dateList, origin, saving } from "./settings_form.js";

export { renderKnowledge } from "./knowledge.js";

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const enc = encodeURIComponent;

function weekdays(days) {
  const names = t("weekdays").split(",");
  return days.map((d) => names[d]).join(" ");
}

/** Delete a console entry (a reset when it overrides the file's), after asking. */
function removal(row, path, name, done) {
  if (row.source !== "console") return null;
  return h("button", { class: "small danger", testid: "setting-remove", onclick: () => guarded(async () => {
    if (!row.overrides_file && !confirm(t("confirm_delete", { x: name }))) return;
    await api(path, { method: "DELETE" });
    done();
  }) }, row.overrides_file ? t("reset") : t("delete"));
}

function hoursForm(row, done) {
  const table_ = row?.table || { time_zone: "Asia/Shanghai", opens: "09:00", closes: "18:00",
    workdays: DAYS.slice(0, 5), calendar: "cn", holidays: [], extra_workdays: [] };
  const names = t("weekdays").split(",");
  const days = checks("workdays", DAYS.map((d, i) => [d, names[i]]), table_.workdays);
  const holidays = dateList("holidays", table_.holidays);
  const extra = dateList("extra_workdays", table_.extra_workdays);
  const form = h("form", { class: "form", testid: "hours-form" },
    h("p", { class: "form-error", hidden: true, testid: "hours-form-error" }),
    field("name", `${t("name")} *`, h("input", { name: "name", value: row?.name || "",
      disabled: Boolean(row), testid: "hours-name" })),
    field("time_zone", t("time_zone"), h("input", { name: "time_zone", value: table_.time_zone, testid: "hours-time_zone" })),
    field("opens", t("opens"), h("input", { name: "opens", type: "time", value: table_.opens, testid: "hours-opens" })),
    field("closes", t("closes"), h("input", { name: "closes", type: "time", value: table_.closes, testid: "hours-closes" })),
    field("calendar", t("calendar"), select({ name: "calendar" },
      [["cn", t("calendar_cn")], ["none", t("calendar_none")]], table_.calendar)),
    group(t("workdays"), [days, h("span", { class: "field-error", dataset: { errorFor: "workdays" } })]),
    group(t("holidays"), [holidays, h("span", { class: "field-error", testid: "field-error-holidays",
      dataset: { errorFor: "holidays" } })]),
    group(t("extra_workdays"), [extra, h("span", { class: "field-error", dataset: { errorFor: "extra_workdays" } })]),
    h("div", { class: "form-actions" },
      h("button", { class: "primary", testid: "hours-save" }, t("save_settings")),
      h("button", { type: "button", onclick: () => form.closest(".panel").remove() }, t("cancel"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const el = form.elements;
    const body = { time_zone: el.time_zone.value.trim(), opens: el.opens.value, closes: el.closes.value,
      workdays: days.values(), calendar: el.calendar.value, holidays: holidays.values(),
      extra_workdays: extra.values() };
    const name = row?.name || el.name.value.trim();
    if (await saving(form, () => api(`/api/v1/settings/hours/${enc(name)}`, { method: "PUT", body }))) done();
  });
  return form;
}

function policyForm(row, hours, done) {
  const p = row || { priority: null, category: null, first_response: "4h", resolution: "3d",
    clock: "business", hours: null };
  const form = h("form", { class: "form", testid: "sla-form" },
    h("p", { class: "form-error", hidden: true, testid: "sla-form-error" }),
    field("name", `${t("name")} *`, h("input", { name: "name", value: row?.name || "",
      disabled: Boolean(row), testid: "sla-name" })),
    field("priority", t("priority"), select({ name: "priority" },
      [["", t("any")], ...known("priority").map((x) => [x, label("priority", x)])], p.priority)),
    field("category", t("category"), select({ name: "category" },
      [["", t("any")], ...known("category").map((x) => [x, label("category", x)])], p.category)),
    field("first_response", t("first_response"), h("input", { name: "first_response",
      value: p.first_response, testid: "sla-first_response" }), t("duration_hint")),
    field("resolution", t("resolution"), h("input", { name: "resolution", value: p.resolution,
      testid: "sla-resolution" })),
    field("clock", t("clock"), select({ name: "clock" },
      [["business", t("clock_business")], ["wall", t("clock_wall")]], p.clock)),
    field("hours", t("hours"), select({ name: "hours" },
      [["", "—"], ...hours.map((x) => [x.name, x.name])], p.hours)),
    h("div", { class: "form-actions" },
      h("button", { class: "primary", testid: "sla-save" }, t("save_settings")),
      h("button", { type: "button", onclick: () => form.closest(".panel").remove() }, t("cancel"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const el = form.elements;
    const body = { priority: el.priority.value || null, category: el.category.value || null,
      first_response: el.first_response.value.trim(), resolution: el.resolution.value.trim(),
      clock: el.clock.value, hours: el.hours.value || null };
    const name = row?.name || el.name.value.trim();
    if (await saving(form, () => api(`/api/v1/settings/sla/${enc(name)}`, { method: "PUT", body }))) done();
  });
  return form;
}

export async function renderHours(box, ctx) {
  const [hours, policies] = await Promise.all([api("/api/v1/settings/hours"), api("/api/v1/settings/sla")]);
  const done = () => { toast(t("saved")); renderHours(box, ctx); };
  const hoursSlot = h("div");
  const slaSlot = h("div");
  const editHours = (row) => clear(hoursSlot, panel(row ? t("edit_title", { x: row.name }) : t("add_hours"),
    null, hoursForm(row, done)));
  const editPolicy = (row) => clear(slaSlot, panel(row ? t("edit_title", { x: row.name }) : t("add_policy"),
    null, policyForm(row, hours, done)));
  clear(box,
    panel(t("hours"), h("button", { class: "primary", testid: "add-hours", onclick: () => editHours(null) },
      t("add_hours")),
    h("p", { class: "muted" }, t("settings_note")), table([
      [t("name"), (x) => h("strong", {}, x.name)], [t("time_zone"), (x) => x.time_zone],
      [t("opens"), (x) => x.opens], [t("closes"), (x) => x.closes],
      [t("workdays"), (x) => weekdays(x.workdays)],
      [t("holidays"), (x) => (x.table?.holidays?.length
        ? h("span", { testid: "hours-holidays" }, x.table.holidays.join(" "))
        : String(x.holidays.length))],
      [t("source"), origin],
      [t("actions"), (x) => h("div", { class: "actions" },
        h("button", { class: "small", testid: "hours-edit", onclick: () => editHours(x) }, t("edit")),
        removal(x, `/api/v1/settings/hours/${enc(x.name)}`, x.name, done))],
    ], hours, "hours")),
    hoursSlot,
    panel(t("policies"), h("button", { class: "primary", testid: "add-policy", onclick: () => editPolicy(null) },
      t("add_policy")), table([
      [t("name"), (p) => h("strong", {}, p.name)],
      [t("priority"), (p) => (p.priority ? label("priority", p.priority) : t("any"))],
      [t("category"), (p) => (p.category ? label("category", p.category) : t("any"))],
      [t("first_response"), (p) => p.first_response], [t("resolution"), (p) => p.resolution],
      [t("clock"), (p) => t(`clock_${p.clock}`)], [t("hours"), (p) => p.hours || "—"],
      [t("source"), origin],
      [t("actions"), (p) => h("div", { class: "actions" },
        h("button", { class: "small", testid: "sla-edit", onclick: () => editPolicy(p) }, t("edit")),
        removal(p, `/api/v1/settings/sla/${enc(p.name)}`, p.name, done))],
    ], policies, "sla")),
    slaSlot);
  return null;
}

function templateForm(row, done) {
  const allowed = row.placeholders.length ? row.placeholders.map((p) => `$${p}`).join(" ") : t("no_placeholders");
  const form = h("form", { class: "template-form", testid: "template-form",
    dataset: { template: `${row.language}/${row.name}` } },
  h("div", { class: "chips" }, h("strong", {}, row.name), h("span", { class: "tag" }, label("language", row.language)),
    origin(row)),
  h("p", { class: "form-error", hidden: true }),
  h("textarea", { name: "text", rows: Math.min(10, row.text.split("\n").length + 1), testid: "template-text", disabled: !row.editable }, row.text),
  h("span", { class: "field-error", testid: "field-error-text", dataset: { errorFor: "text" } }),
  h("div", { class: "form-actions" },
    h("span", { class: "hint" }, `${t("placeholders")}: `, h("code", { testid: "template-placeholders" }, allowed)),
    row.editable && h("button", { class: "primary small", testid: "template-save" }, t("save_settings")),
    row.source === "console" && h("button", { type: "button", class: "small", testid: "template-reset",
      onclick: () => guarded(async () => {
        await api(`/api/v1/settings/templates/${enc(row.language)}/${enc(row.name)}`, { method: "DELETE" });
        done();
      }) }, t("reset"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { text: form.elements.text.value };
    const path = `/api/v1/settings/templates/${enc(row.language)}/${enc(row.name)}`;
    if (await saving(form, () => api(path, { method: "PUT", body }))) done();
  });
  return form;
}

export async function renderTemplates(box, ctx) {
  const rows = await api("/api/v1/settings/templates");
  const done = () => { toast(t("saved")); renderTemplates(box, ctx); };
  clear(box, panel(t("reply_templates"), null, h("p", { class: "muted" }, t("settings_note")),
    rows.map((row) => templateForm(row, done))));
  return null;
}
