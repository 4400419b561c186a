// The unified task inbox: every channel in one list, filtered, updated live.

import { api } from "../api.js";
import { clear, debounce, h, select } from "../dom.js";
import { formatTime, known, label, t } from "../i18n.js";
import { onRequestChange, onResync } from "../live.js";
import { channelBadge, customerLabel, slaBadge, startSlaClock } from "./widgets.js";

const PAGE = 50;
const OPEN = ["new", "open", "pending"];
const FILTERS = ["view", "channel", "category", "priority", "language", "status", "q", "sort"];

function readFilters(query) {
  const f = Object.fromEntries(FILTERS.map((k) => [k, query.get(k) || ""]));
  f.view = f.view || "all";
  f.status = f.status || "active";
  f.sort = f.sort || "newest";
  f.offset = Number(query.get("offset") || 0);
  return f;
}

function apiQuery(f) {
  const statuses = f.status === "active" ? OPEN : f.status === "any" ? [] : [f.status];
  return {
    assignee: f.view === "mine" ? "me" : null,
    unassigned: f.view === "unassigned",
    channel: f.channel, category: f.category, priority: f.priority, language: f.language,
    status: statuses, q: f.q.trim(), sort: f.sort, limit: PAGE, offset: f.offset,
  };
}

function urlOf(f) {
  const query = new URLSearchParams();
  for (const key of FILTERS) {
    if (f[key] && !(key === "view" && f[key] === "all") && !(key === "status" && f[key] === "active")
      && !(key === "sort" && f[key] === "newest")) query.set(key, f[key]);
  }
  if (f.offset) query.set("offset", f.offset);
  const text = query.toString();
  return text ? `/inbox?${text}` : "/inbox";
}

function row(item, flash) {
  const title = item.subject || item.preview || "";
  const preview = item.subject && item.preview && !item.preview.startsWith(item.subject)
    ? item.preview : "";
  return h("a", {
    href: `/requests/${item.id}`, class: `task priority-${item.priority}${flash ? " flash" : ""}`,
    testid: "task-row", dataset: { requestId: item.id, channel: item.channel, status: item.status },
  },
  channelBadge(item.channel),
  h("div", { class: "task-main" },
    h("div", { class: "task-line" },
      h("span", { class: "task-id" }, `#${item.id}`),
      h("span", { class: "task-customer", testid: "task-customer" }, customerLabel(item)),
      h("span", { class: "task-title", testid: "task-title" }, title)),
    h("div", { class: "task-preview", testid: "task-preview" }, preview),
    h("div", { class: "task-tags" },
      h("span", { class: `tag status-${item.status}`, testid: "task-status" }, label("status", item.status)),
      h("span", { class: "tag category", testid: "task-category" }, label("category", item.category)),
      h("span", { class: `tag priority p-${item.priority}`, testid: "task-priority" },
        label("priority", item.priority)),
      h("span", { class: "tag language", testid: "task-language" }, label("language", item.language)),
      item.team && h("span", { class: "tag team" }, item.team),
      item.assignee && h("span", { class: "tag assignee" }, `@${item.assignee}`),
      item.complaint_ref && h("span", { class: "tag complaint" }, item.complaint_ref))),
  h("div", { class: "task-side" },
    slaBadge(item),
    h("time", { datetime: item.last_message_at || item.created_at },
      formatTime(item.last_message_at || item.created_at))));
}

function filterBar(f, apply) {
  const tabs = ["all", "mine", "unassigned"].map((view) => h("button", {
    class: f.view === view ? "tab active" : "tab", testid: `tab-${view}`,
    onclick: () => apply({ view }),
  }, t(view)));
  const pick = (name, anyKey, values, kind) => select({
    testid: `filter-${name}`, "aria-label": t(name), onchange: (e) => apply({ [name]: e.target.value }),
  }, [["", t(anyKey)], ...values.map((v) => [v, label(kind, v)])], f[name]);
  const search = h("input", {
    type: "search", placeholder: t("search"), value: f.q, testid: "filter-q",
    onkeydown: (e) => e.key === "Enter" && apply({ q: e.target.value }),
  });
  return h("div", { class: "filters" },
    h("div", { class: "tabs" }, tabs),
    pick("channel", "any_channel", known("channel").filter((c) => c !== "voice"), "channel"),
    pick("category", "any_category", known("category"), "category"),
    pick("priority", "any_priority", known("priority"), "priority"),
    pick("language", "any_language", ["zh", "en"], "language"),
    select({ testid: "filter-status", onchange: (e) => apply({ status: e.target.value }) },
      [["active", t("open_statuses")], ["any", t("any_status")],
        ...known("status").map((v) => [v, label("status", v)])], f.status),
    select({ testid: "filter-sort", onchange: (e) => apply({ sort: e.target.value }) },
      [["newest", t("sort_newest")], ["due", t("sort_due")], ["updated", t("sort_updated")]], f.sort),
    search);
}

function pager(page, f, apply) {
  if (page.total <= PAGE) return null;
  const from = page.offset + 1;
  const to = Math.min(page.offset + page.items.length, page.total);
  return h("div", { class: "pager" },
    h("button", { disabled: page.offset === 0, onclick: () => apply({ offset: page.offset - PAGE }) },
      t("previous")),
    h("span", {}, t("showing", { from, to, total: page.total })),
    h("button", { disabled: to >= page.total, onclick: () => apply({ offset: page.offset + PAGE }) },
      t("next")));
}

export async function render(main, ctx) {
  const f = readFilters(ctx.query);
  const list = h("div", { class: "task-list", testid: "task-list" });
  const count = h("span", { class: "count", testid: "task-count" });
  const flashing = new Set();
  const apply = (changes) => {
    const next = { ...f, offset: 0, ...changes };
    ctx.navigate(urlOf(next));
  };

  async function load() {
    const page = await api("/api/v1/requests", { query: apiQuery(f) });
    count.textContent = String(page.total);
    clear(list, page.items.length ? page.items.map((item) => row(item, flashing.has(item.id)))
      : h("div", { class: "empty", testid: "no-tasks" }, t("no_tasks")),
    pager(page, f, apply));
    flashing.clear();
  }

  const reload = debounce(() => load().catch(() => {}), 250);
  clear(main, h("section", { class: "inbox" },
    h("div", { class: "page-head" }, h("h1", {}, t("tasks"), count)),
    filterBar(f, apply), list));
  await load();
  const stops = [
    onRequestChange((change) => {
      flashing.add(change.request.id);
      reload();
    }),
    onResync(reload),
    startSlaClock(list),
  ];
  return () => {
    reload.cancel();
    stops.forEach((stop) => stop());
  };
}
