// The dashboard (supervisors and admins): volume by channel and category over time, first
// response and resolution times, SLA attainment and satisfaction, from /api/v1/reports.

import { api, ApiError } from "../api.js";
import { clear, h, select } from "../dom.js";
import { formatMinutes, label, percent, t } from "../i18n.js";
import { PALETTE, gauge, hbars, legend, stackedBars } from "../charts.js";

const CHANNEL_COLORS = { twilio: "#f22f46", email: "#0969da", wechat: "#07c160", weibo: "#e6162d",
  webchat: "#bf8700" };

function kpi(title, value, sub, testid) {
  return h("div", { class: "kpi", testid }, h("div", { class: "kpi-label" }, title),
    h("div", { class: "kpi-value" }, value), sub && h("div", { class: "kpi-sub" }, sub));
}

function durations(d) {
  return `${t("p90")} ${formatMinutes(d.p90_minutes)} · ${t("business")} ${formatMinutes(d.business_median_minutes)}`;
}

function chartCard(title, body, extra = "") {
  return h("section", { class: `panel chart ${extra}`, testid: "chart" }, h("h3", {}, title), body);
}

async function overTime(days, report, dimension, query) {
  // Each series asks for the very days of the first report, even past the desk's midnight.
  const names = Object.keys(report.volume[`by_${dimension}`]);
  const parts = await Promise.all(names.map((name) => api("/api/v1/reports",
    { query: { ...query, [dimension]: name === "unknown" ? null : name } })));
  return names.map((name, k) => ({
    name: label(dimension, name), color: dimension === "channel" ? CHANNEL_COLORS[name] : PALETTE[k % PALETTE.length],
    values: days.map((day) => parts[k].volume.by_day[day] || 0),
  }));
}

export async function render(main, ctx, n = Number(ctx.query.get("days") || 30), by = "channel") {
  // The desk picks the days: the last n up to its today, in its zone (not the browser's).
  let report;
  try {
    report = await api("/api/v1/reports", { query: { days: n } });
  } catch (error) {
    if (error instanceof ApiError && error.status === 403) {
      clear(main, h("div", { class: "error-box" }, t("staff_only")));
      return null;
    }
    throw error;
  }
  const days = report.period.days;
  const query = { since: report.period.first_day, until: report.period.last_day };
  const series = await overTime(days, report, by, query);
  const entries = (obj, kind) => Object.entries(obj).sort((a, b) => b[1] - a[1])
    .map(([k, v]) => [label(kind, k), v]);
  const sla = report.sla;
  const controls = h("div", { class: "filters" },
    select({ testid: "dashboard-period", onchange: (e) => render(main, ctx, Number(e.target.value), by) },
      [7, 30, 90].map((d) => [d, t("last_days", { n: d })]), n),
    select({ testid: "dashboard-breakdown", onchange: (e) => render(main, ctx, n, e.target.value) },
      [["channel", t("by_channel")], ["category", t("by_category")]], by));
  clear(main, h("section", { class: "dashboard", testid: "dashboard" },
    h("div", { class: "page-head" }, h("h1", {}, t("dashboard")), controls),
    h("p", { class: "period", testid: "dashboard-days" }, t("days_in_zone",
      { first: report.period.first_day, last: report.period.last_day, zone: report.period.time_zone })),
    h("div", { class: "kpis" },
      kpi(t("total_requests"), String(report.volume.total), t("last_days", { n }), "kpi-total"),
      kpi(t("first_response"), formatMinutes(report.first_response.median_minutes),
        durations(report.first_response), "kpi-first-response"),
      kpi(t("resolution"), formatMinutes(report.resolution.median_minutes), durations(report.resolution)),
      kpi(t("csat"), percent(report.csat.csat), `${report.csat.responses}/${report.csat.surveys_sent}`),
      kpi(t("reopen_rate"), percent(report.reopen_rate))),
    h("div", { class: "charts" },
      chartCard(t("volume_over_time"), [stackedBars(days, series, { label: (d) => d.slice(5) }),
        legend(series)], "wide"),
      chartCard(t("by_channel"), hbars(entries(report.volume.by_channel, "channel"),
        { color: Object.keys(report.volume.by_channel).map((c) => CHANNEL_COLORS[c] || PALETTE[0]) })),
      chartCard(t("by_category"), hbars(entries(report.volume.by_category, "category"), { color: PALETTE })),
      chartCard(t("sla_attainment"), h("div", { class: "kpis" },
        gauge(sla.first_response.attainment, `${t("first_response")} · ${t("met")} ${sla.first_response.met} / ${t("breached")} ${sla.first_response.breached}`),
        gauge(sla.resolution.attainment, `${t("resolution")} · ${t("met")} ${sla.resolution.met} / ${t("breached")} ${sla.resolution.breached}`))),
      chartCard(t("first_response"), !report.first_response.count
        ? h("p", { class: "empty" }, t("no_data")) : hbars([
        [`${t("median")}`, Math.round(report.first_response.median_minutes || 0)],
        [`${t("p90")}`, Math.round(report.first_response.p90_minutes || 0)],
        [`${t("median")} (${t("business")})`, Math.round(report.first_response.business_median_minutes || 0)],
        [`${t("p90")} (${t("business")})`, Math.round(report.first_response.business_p90_minutes || 0)],
      ], { color: "#8250df" })))));
  return null;
}
