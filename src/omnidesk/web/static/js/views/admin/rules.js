// Admin: routing rules, tried in order (the config file's first, then the console's).

import { api } from "../../api.js";
import { clear, h, select, toast } from "../../dom.js";
import { known, label, t } from "../../i18n.js";
import { checks, field, group, guarded, panel, table, yesNo } from "./common.js";

function conditions(rule) {
  const parts = Object.entries(rule.conditions || {}).filter(([, v]) => v && v.length)
    .map(([k, v]) => `${t(k === "category" ? "category" : k)}: ${v.join(", ")}`);
  return parts.length ? parts.join(" · ") : t("any");
}

function ruleForm(teams, policies, done) {
  const category = checks("category", known("category").map((c) => [c, label("category", c)]));
  const channel = checks("channel", ["twilio", "email", "wechat", "weibo"].map((c) => [c, label("channel", c)]));
  const language = checks("language", [["zh", label("language", "zh")], ["en", label("language", "en")]]);
  const priority = checks("priority", known("priority").map((p) => [p, label("priority", p)]));
  const form = h("form", { class: "form", testid: "rule-form" },
    h("p", { class: "form-error", hidden: true }),
    field("name", `${t("name")} *`, h("input", { name: "name", testid: "rule-name" })),
    field("keywords", t("keywords"), h("input", { name: "keywords", testid: "rule-keywords" })),
    group(t("category"), category), group(t("channel"), channel),
    group(t("language"), language), group(t("priority"), priority),
    field("team", t("team"), select({ name: "team", testid: "rule-team" },
      [["", "—"], ...teams.map((x) => [x.name, x.name])], "")),
    field("set_priority", t("set_priority"), select({ name: "set_priority" },
      [["", "—"], ...known("priority").map((p) => [p, label("priority", p)])], "")),
    field("sla", t("sla"), select({ name: "sla" }, [["", "—"], ...policies.map((p) => [p.name, p.name])], "")),
    h("div", { class: "form-actions" }, h("button", { class: "primary", testid: "rule-save" }, t("save_only"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const el = form.elements;
    const body = { name: el.name.value.trim(), category: category.values(), channel: channel.values(),
      language: language.values(), priority: priority.values(),
      keywords: el.keywords.value.split(/[,，]/).map((k) => k.trim()).filter(Boolean),
      team: el.team.value || null, set_priority: el.set_priority.value || null, sla: el.sla.value || null };
    if (await guarded(() => api("/api/v1/routing-rules", { method: "POST", body }), form)) done();
  });
  return form;
}

function asInput(rule, changes) {
  const c = rule.conditions || {};
  return { name: rule.name, category: c.category || [], channel: c.channel || [],
    language: c.language || [], priority: c.priority || [], tags: c.tags || [],
    keywords: c.keywords || [], team: rule.team, set_priority: rule.priority, sla: rule.sla,
    enabled: rule.enabled, ...changes };
}

export async function render(box, ctx) {
  const [rules, teams, policies] = await Promise.all([
    api("/api/v1/routing-rules"), api("/api/v1/teams"), api("/api/v1/settings/sla")]);
  const reload = () => render(box, ctx);
  const slot = h("div");
  const consoleIds = rules.filter((r) => r.source === "console").map((r) => r.id);
  const move = (rule, step) => guarded(async () => {
    const ids = [...consoleIds];
    const at = ids.indexOf(rule.id);
    [ids[at], ids[at + step]] = [ids[at + step], ids[at]];
    await api("/api/v1/routing-rules/order", { method: "PUT", body: { ids } });
    reload();
  });
  const update = (rule, changes) => guarded(async () => {
    await api(`/api/v1/routing-rules/${rule.id}`, { method: "PUT", body: asInput(rule, changes) });
    reload();
  });
  const remove = (rule) => guarded(async () => {
    if (!confirm(t("confirm_delete", { x: rule.name }))) return;
    await api(`/api/v1/routing-rules/${rule.id}`, { method: "DELETE" });
    reload();
  });
  const actions = (rule) => {
    if (rule.source !== "console") return h("span", { class: "muted" }, t("read_only_file"));
    const at = consoleIds.indexOf(rule.id);
    return h("div", { class: "actions" },
      h("button", { class: "small", disabled: at === 0, onclick: () => move(rule, -1) }, "↑"),
      h("button", { class: "small", disabled: at === consoleIds.length - 1, onclick: () => move(rule, 1) }, "↓"),
      h("button", { class: "small", onclick: () => update(rule, { enabled: !rule.enabled }) },
        rule.enabled ? t("disable") : t("enable")),
      h("button", { class: "small danger", onclick: () => remove(rule) }, t("delete")));
  };
  clear(box, panel(t("rules"), h("button", { class: "primary", testid: "add-rule",
    onclick: () => clear(slot, panel(t("add_rule"), null, ruleForm(teams, policies, () => {
      toast(t("saved"));
      reload();
    }))) }, t("add_rule")),
  h("p", { class: "muted" }, t("tried_in_order")),
  table([
    ["#", (r) => String(r.position)],
    [t("name"), (r) => h("strong", { testid: "rule-row-name" }, r.name)],
    [t("conditions"), conditions],
    [t("team"), (r) => r.team || "—"],
    [t("priority"), (r) => (r.priority ? label("priority", r.priority) : "—")],
    [t("sla"), (r) => r.sla || "—"],
    [t("enabled"), (r) => yesNo(r.enabled)],
    [t("actions"), actions],
  ], rules, "rule")), slot);
  return null;
}
