// Admin: quarantine. Payloads nobody could read, shown as text, retried or discarded.

import { api } from "../../api.js";
import { clear, h, toast } from "../../dom.js";
import { formatTime, t } from "../../i18n.js";
import { formatBytes } from "../widgets.js";
import { guarded, panel, table } from "./common.js";

const URL = "/api/v1/quarantine";

async function view(item, done) {
  const found = await guarded(() => api(`${URL}/${item.id}`));
  if (!found) return;
  const dialog = h("dialog", { testid: "quarantine-view" },
    h("h2", {}, `#${found.id} · ${found.connector || "—"}`),
    h("p", {}, h("strong", {}, `${t("reason")}: `), found.reason),
    h("p", { class: "muted" }, `${found.content_type || ""} · ${formatBytes(found.size)} · ${found.payload_encoding}`),
    h("pre", { class: "payload", testid: "quarantine-payload" }, found.payload),
    h("div", { class: "actions" },
      found.status === "held" && h("button", { class: "primary", testid: "quarantine-retry",
        onclick: () => act("retry") }, t("retry")),
      found.status === "held" && h("button", { class: "danger", testid: "quarantine-discard",
        onclick: () => act("discard") }, t("discard")),
      h("button", { onclick: () => dialog.close() }, t("close"))));
  async function act(what) {
    if (await guarded(() => api(`${URL}/${found.id}/${what}`, { method: "POST" }).then(() => true))) {
      toast(t("saved"));
    }
    // Either way the list changes: settled, or still held with the reason the retry gave.
    dialog.close();
    done();
  }
  document.body.append(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  dialog.showModal();
}

export async function render(box, ctx, status = "held") {
  const page = await api(URL, { query: { status, limit: 200 } });
  const reload = () => render(box, ctx, status);
  const tabs = h("div", { class: "tabs" }, ["held", "retried", "discarded"].map((s) => h("button", {
    class: s === status ? "tab active" : "tab", onclick: () => render(box, ctx, s) }, t(s))));
  clear(box, panel(`${t("quarantine")} (${page.total})`, tabs,
    page.items.length ? table([
      ["#", (q) => String(q.id)], [t("connectors"), (q) => q.connector || "—"],
      [t("reason"), (q) => q.reason], [t("size"), (q) => formatBytes(q.size)],
      [t("received"), (q) => formatTime(q.created_at)],
      [t("actions"), (q) => h("button", { class: "small", testid: "quarantine-open",
        onclick: () => view(q, reload) }, t("view"))],
    ], page.items, "quarantine") : h("p", { class: "empty" }, t("nothing_held"))));
  return null;
}
