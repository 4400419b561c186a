// Admin: teams and agents (accounts, roles, teams, skills, capacity, availability).

import { api } from "../../api.js";
import { clear, h, select, toast } from "../../dom.js";
import { known, label, t } from "../../i18n.js";
import { checks, field, group, guarded, panel, table, yesNo } from "./common.js";

function teamForm(hours, done) {
  const form = h("form", { class: "form", testid: "team-form" },
    h("p", { class: "form-error", hidden: true }),
    field("name", `${t("name")} *`, h("input", { name: "name", testid: "team-name", required: true })),
    field("display_name", t("display_name"), h("input", { name: "display_name" })),
    field("hours", t("hours"), select({ name: "hours" }, hours.map((x) => [x.name, x.name]), "default")),
    h("div", { class: "form-actions" }, h("button", { class: "primary", testid: "team-save" }, t("save_only"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: form.elements.name.value.trim(), hours: form.elements.hours.value,
      display_name: form.elements.display_name.value.trim() || null };
    if (await guarded(() => api("/api/v1/teams", { method: "POST", body }), form)) done();
  });
  return form;
}

function agentForm(teams, done) {
  const teamChecks = checks("teams", teams.map((x) => [x.name, x.display_name || x.name]));
  const languages = checks("languages", [["zh", label("language", "zh")], ["en", label("language", "en")]]);
  const categories = checks("categories", known("category").map((c) => [c, label("category", c)]));
  const form = h("form", { class: "form", testid: "agent-form" },
    h("p", { class: "form-error", hidden: true }),
    field("username", `${t("username")} *`, h("input", { name: "username", testid: "agent-username" })),
    field("display_name", t("display_name"), h("input", { name: "display_name" })),
    field("password", t("password"), h("input", { name: "password", type: "password",
      testid: "agent-password", autocomplete: "new-password" })),
    field("role", t("role"), select({ name: "role", testid: "agent-role" },
      ["agent", "supervisor", "admin"].map((r) => [r, label("role", r)]), "agent")),
    field("capacity", t("capacity"), h("input", { name: "capacity", type: "number", value: 10, min: 0 })),
    group(t("teams"), teamChecks), group(t("languages"), languages),
    group(t("categories"), categories),
    h("div", { class: "form-actions" }, h("button", { class: "primary", testid: "agent-save" }, t("save_only"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const el = form.elements;
    const body = { username: el.username.value.trim(), display_name: el.display_name.value.trim() || null,
      password: el.password.value || null, role: el.role.value, capacity: Number(el.capacity.value),
      teams: teamChecks.values(), languages: languages.values(), categories: categories.values() };
    if (await guarded(() => api("/api/v1/agents", { method: "POST", body }), form)) done();
  });
  return form;
}

export async function render(box, ctx) {
  const [teams, agents, hours] = await Promise.all([
    api("/api/v1/teams"), api("/api/v1/agents"), api("/api/v1/settings/hours")]);
  const reload = () => render(box, ctx);
  const slot = h("div");
  const show = (form) => clear(slot, panel("", null, form));
  const done = () => { toast(t("saved")); reload(); };
  const patch = (a, body) => guarded(async () => {
    await api(`/api/v1/agents/${encodeURIComponent(a.username)}`, { method: "PATCH", body });
    reload();
  });
  const setAvailability = (a, value) => guarded(() => api(
    `/api/v1/agents/${encodeURIComponent(a.username)}/availability`,
    { method: "PUT", body: { availability: value } }));
  const removeTeam = (team) => guarded(async () => {
    if (!confirm(t("confirm_delete", { x: team.name }))) return;
    await api(`/api/v1/teams/${encodeURIComponent(team.name)}`, { method: "DELETE" });
    reload();
  });
  clear(box,
    panel(t("teams"), h("button", { class: "primary", testid: "add-team",
      onclick: () => show(teamForm(hours, done)) }, t("add_team")),
    table([
      [t("name"), (x) => h("strong", { testid: "team-row-name" }, x.name)],
      [t("display_name"), (x) => x.display_name || ""],
      [t("hours"), (x) => x.hours], [t("lead"), (x) => x.lead || "—"],
      [t("members"), (x) => x.members.join(", ")],
      [t("source"), (x) => (x.source === "file" ? t("read_only_file") : x.source)],
      [t("actions"), (x) => x.source === "console"
        && h("button", { class: "small danger", onclick: () => removeTeam(x) }, t("delete"))],
    ], teams, "team")),
    panel(t("agents"), h("button", { class: "primary", testid: "add-agent",
      onclick: () => show(agentForm(teams, done)) }, t("add_agent")),
    table([
      [t("username"), (a) => h("strong", { testid: "agent-row-name" }, a.username)],
      [t("display_name"), (a) => a.display_name || ""],
      [t("role"), (a) => label("role", a.role)],
      [t("teams"), (a) => a.teams.join(", ")],
      [t("availability"), (a) => select({ onchange: (e) => setAvailability(a, e.target.value) },
        ["online", "away", "offline"].map((v) => [v, t(v)]), a.availability)],
      [t("capacity"), (a) => String(a.capacity)],
      [t("open_requests"), (a) => String(a.open_requests ?? 0)],
      [t("active"), (a) => yesNo(a.active)],
      [t("actions"), (a) => a.username !== ctx.me.username && h("button", { class: "small",
        onclick: () => patch(a, { active: !a.active }) }, a.active ? t("deactivate") : t("activate"))],
    ], agents, "agent")),
    slot);
  return null;
}
