// Small parts several views share: channel badges, the SLA countdown, customer names.

import { now } from "../clock.js";
import { h } from "../dom.js";
import { formatSpan, label, t } from "../i18n.js";

const ICONS = { twilio: "✆", email: "✉", wechat: "微", weibo: "博", webchat: "💬", voice: "☎" };
const OPEN = new Set(["new", "open", "pending"]);

export function channelBadge(channel, extra = "") {
  return h("span", { class: `channel ch-${channel} ${extra}`, title: label("channel", channel),
    testid: "channel", dataset: { channel } },
  h("span", { class: "ch-icon", "aria-hidden": "true" }, ICONS[channel] || "•"),
  h("span", { class: "ch-name" }, label("channel", channel)));
}

export function customerLabel(item) {
  return item.customer_name || t("unknown_customer", { id: item.customer_id });
}

/** The deadline that matters now: first response while unanswered, then resolution. */
export function dueOf(item) {
  if (!OPEN.has(item.status)) return null;
  return item.first_responded_at ? item.resolution_due : item.first_response_due;
}

function paint(el) {
  const due = Date.parse(el.dataset.due);
  const left = due - now();
  el.textContent = left >= 0 ? t("due_in", { t: formatSpan(left) })
    : t("overdue", { t: formatSpan(-left) });
  el.classList.toggle("overdue", left < 0);
  el.classList.toggle("soon", left >= 0 && left < 30 * 60 * 1000);
}

/** The SLA countdown of a request (computed here, from its due time, every second). */
export function slaBadge(item) {
  const due = dueOf(item);
  if (!due) {
    const text = item.first_responded_at ? t("responded") : t("no_sla");
    return h("span", { class: "sla none", testid: "sla" }, text);
  }
  const kind = item.first_responded_at ? "resolution_due" : "first_response_due";
  const el = h("span", { class: "sla", testid: "sla", title: t(kind), dataset: { due } });
  paint(el);
  return el;
}

/** Tick every countdown inside `container` once a second; returns the stop function. */
export function startSlaClock(container) {
  const timer = setInterval(() => container.querySelectorAll(".sla[data-due]").forEach(paint), 1000);
  return () => clearInterval(timer);
}

export function formatBytes(size) {
  if (size === null || size === undefined) return "";
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}
