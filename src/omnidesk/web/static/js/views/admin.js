// The admin console: one page per section, with a menu on the side.

import { clear, h } from "../dom.js";
import { t } from "../i18n.js";
import * as connectors from "./admin/connectors.js";
import * as people from "./admin/people.js";
import * as quarantine from "./admin/quarantine.js";
import * as rules from "./admin/rules.js";
import * as settings from "./admin/settings.js";
import * as system from "./admin/system.js";

const SECTIONS = [
  ["connectors", connectors.render],
  ["people", people.render],
  ["rules", rules.render],
  ["hours-sla", settings.renderHours],
  ["templates", settings.renderTemplates],
  ["knowledge", settings.renderKnowledge],
  ["quarantine", quarantine.render],
  ["classifier", system.renderClassifier],
  ["audit", system.renderAudit],
];
const TITLES = { "hours-sla": "hours_sla", templates: "reply_templates" };

export async function render(main, ctx) {
  if (ctx.me.role !== "admin") {
    clear(main, h("div", { class: "error-box" }, t("forbidden")));
    return null;
  }
  const name = ctx.params[0] || "connectors";
  const found = SECTIONS.find(([key]) => key === name) || SECTIONS[0];
  const body = h("div", { class: "admin-body", testid: `admin-${found[0]}` });
  clear(main, h("section", { class: "admin" },
    h("nav", { class: "subnav", testid: "admin-nav" }, SECTIONS.map(([key]) => h("a", {
      href: `/admin/${key}`, class: key === found[0] ? "active" : "", testid: `admin-nav-${key}`,
    }, t(TITLES[key] || key)))),
    body));
  return found[1](body, ctx);
}
