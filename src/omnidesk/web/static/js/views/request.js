// One request: the customer's whole conversation across channels, the reply box, and the
// request's properties and history beside it; updated live.

import { api, ApiError } from "../api.js";
import { clear, debounce, h, select, toast } from "../dom.js";
import { formatTime, known, label, t } from "../i18n.js";
import { onRequestChange, onResync } from "../live.js";
import { composer } from "./composer.js";
import { conversation, history } from "./conversation.js";
import { channelBadge, customerLabel, slaBadge, startSlaClock } from "./widgets.js";

async function change(path, method, body, after) {
  try {
    await api(path, { method, body });
    after();
  } catch (error) {
    const code = error instanceof ApiError ? Object.values(error.errors)[0] : null;
    toast(code ? label("error", code) : t("network_error"), "error");
  }
}

function field(name, value, testid) {
  return h("div", { class: "prop" }, h("dt", {}, t(name)), h("dd", { testid }, value));
}

function statusButtons(item, act) {
  const buttons = item.status === "resolved" || item.status === "closed"
    ? [["open", "reopen"]] : [["pending", "set_pending"], ["resolved", "resolve"]];
  return h("div", { class: "button-row" }, buttons.map(([status, key]) => h("button", {
    testid: `status-${status}`, onclick: () => act("status", "POST", { status }),
  }, t(key))));
}

/** A priority change needs a reason for the history; without one the selector goes back. */
function askPriority(selector, item, act) {
  const reason = (window.prompt(t("priority_reason"), "") || "").trim();
  if (reason) act("priority", "PUT", { priority: selector.value, reason });
  else selector.value = item.priority;
}

function properties(detail, people, me, act) {
  const item = detail.request;
  const agents = [["", t("nobody")], ...people.agents.filter((a) => a.active)
    .map((a) => [a.username, a.display_name || a.username])];
  return h("dl", { class: "props", testid: "properties" },
    field("status", h("span", { class: `tag status-${item.status}` }, label("status", item.status)),
      "prop-status"),
    field("category", select({ testid: "set-category",
      onchange: (e) => act("category", "PUT", { category: e.target.value }) },
    known("category").map((c) => [c, label("category", c)]), item.category), "prop-category"),
    field("priority", select({ testid: "set-priority", class: `p-${item.priority}`,
      onchange: (e) => askPriority(e.target, item, act) },
    known("priority").map((p) => [p, label("priority", p)]), item.priority), "prop-priority"),
    field("language", label("language", item.language)),
    field("team", select({ testid: "set-team",
      onchange: (e) => act("assignee", "PUT", { assignee: null, team: e.target.value }) },
    people.teams.map((tm) => [tm.name, tm.display_name || tm.name]), item.team)),
    field("assignee", h("div", { class: "assign" },
      select({ testid: "set-assignee",
        onchange: (e) => act("assignee", "PUT", { assignee: e.target.value || null }) },
      agents, item.assignee || ""),
      item.assignee !== me.username && h("button", { class: "small", testid: "assign-me",
        onclick: () => act("assignee", "PUT", { assignee: me.username }) }, t("assign_me")))),
    field("first_response_due", item.first_response_due ? formatTime(item.first_response_due) : "—"),
    field("resolution_due", item.resolution_due ? formatTime(item.resolution_due) : "—"),
    item.complaint_ref && field("complaint_ref", item.complaint_ref),
    statusButtons(item, act));
}

function customerCard(detail) {
  const customer = detail.customer || {};
  return h("section", { class: "card", testid: "customer" },
    h("h3", {}, t("customer")),
    h("p", { class: "customer-name" }, customer.display_name || customerLabel(detail.request)),
    h("h4", {}, t("identities")),
    h("ul", { class: "identities" }, detail.identities.map((i) => h("li", {},
      channelBadge(i.kind === "phone" ? "twilio" : i.kind, "small"), h("code", {}, i.address)))),
    detail.requests.length > 1 && h("h4", {}, t("other_requests")),
    detail.requests.length > 1 && h("ul", { class: "other-requests" }, detail.requests.map((r) => h("li", {},
      h("a", { href: `/requests/${r.id}`, class: r.id === detail.request.id ? "current" : "" },
        `#${r.id} `, label("category", r.category), " · ", label("status", r.status))))));
}

function head(detail) {
  const item = detail.request;
  return h("div", { class: "request-head" },
    h("a", { href: "/inbox", class: "back" }, t("back")),
    h("h1", { testid: "request-title" }, channelBadge(item.channel), ` #${item.id} `,
      item.subject || customerLabel(item)),
    h("div", { class: "request-tags" },
      h("span", { class: `tag status-${item.status}` }, label("status", item.status)),
      h("span", { class: "tag category" }, label("category", item.category)),
      h("span", { class: `tag p-${item.priority}` }, label("priority", item.priority)),
      slaBadge(item),
      detail.merged_into && h("a", { href: `/requests/${detail.merged_into}`, class: "tag" },
        t("merged_into", { id: detail.merged_into }))));
}

async function people() {
  const [agents, teams] = await Promise.all([api("/api/v1/agents"), api("/api/v1/teams")]);
  return { agents, teams };
}

export async function render(main, ctx) {
  const id = Number(ctx.params[0]);
  const top = h("div");
  const thread = h("div", { class: "thread" });
  const side = h("aside", { class: "side" });
  const directory = await people();
  let detail = await api(`/api/v1/requests/${id}`);

  function paint() {
    const act = (what, method, body) => change(`/api/v1/requests/${id}/${what}`, method, body, reload);
    clear(top, head(detail));
    clear(thread, conversation(detail));
    clear(side, h("section", { class: "card" }, h("h3", {}, t("details")),
      properties(detail, directory, ctx.me, act)),
    customerCard(detail), h("section", { class: "card" }, h("h3", {}, t("history")), history(detail)));
  }

  async function load() {
    detail = await api(`/api/v1/requests/${id}`);
    paint();
  }

  const reload = debounce(() => load().catch(() => {}), 200);
  paint();
  clear(main, h("section", { class: "request-page" }, top,
    h("div", { class: "request-body" },
      h("div", { class: "request-main" }, thread, composer(detail, reload)), side)));
  thread.lastElementChild?.lastElementChild?.scrollIntoView({ block: "end" });
  const stops = [
    onRequestChange((c) => {
      if (c.request.customer_id === detail.request.customer_id || c.request.id === id) reload();
    }),
    onResync(reload),
    startSlaClock(main),
  ];
  return () => {
    reload.cancel();
    stops.forEach((stop) => stop());
  };
}
