// Admin: the classifier's versions (retrain on agents' corrections) and the audit log.

import { api } from "../../api.js";
import { clear, h, toast } from "../../dom.js";
import { formatTime, t } from "../../i18n.js";
import { guarded, panel, table, yesNo } from "./common.js";

function f1(version) {
  const m = version.metrics || {};
  const value = m.macro_f1 ?? m.heldout?.macro_f1 ?? m.held_out_macro_f1;
  return typeof value === "number" ? value.toFixed(3) : "—";
}

export async function renderClassifier(box, ctx) {
  const found = await api("/api/v1/classifier");
  const retrain = async (button) => {
    button.disabled = true;
    const result = await guarded(() => api("/api/v1/classifier/retrain", { method: "POST", body: {} }));
    if (result) toast(`${result.version}: ${result.reason}`);
    renderClassifier(box, ctx);
  };
  clear(box, panel(t("classifier"),
    h("button", { class: "primary", testid: "retrain", onclick: (e) => retrain(e.target) }, t("retrain")),
    h("p", {}, `${t("active_version")}: `, h("strong", {}, found.active || "—"), " · ",
      `${t("untrained")}: ${found.untrained_corrections}`),
    table([[t("version"), (v) => v.version], [t("active"), (v) => yesNo(v.active)],
      [t("macro_f1"), f1]], found.versions, "model")));
  return null;
}

export async function renderAudit(box) {
  const page = await api("/api/v1/audit", { query: { limit: 200 } });
  clear(box, panel(`${t("audit")} (${page.total})`, null, table([
    [t("at"), (a) => formatTime(a.at)], [t("actor"), (a) => a.actor], [t("action"), (a) => a.action],
    [t("target"), (a) => `${a.target_type} ${a.target_id ?? ""}`],
    [t("details_col"), (a) => h("code", {}, JSON.stringify(a.details))],
  ], page.items, "audit")));
  return null;
}
