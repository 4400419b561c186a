// Admin: connectors. A form built from each channel's settings schema; the server tests the
// settings against the provider before it saves them, and its errors land on their fields.

import { api } from "../../api.js";
import { clear, h, select, toast } from "../../dom.js";
import { formatTime, label, lang, t } from "../../i18n.js";
import { channelBadge } from "../widgets.js";
import { field, guarded, panel, table, yesNo } from "./common.js";

const URL = "/api/v1/admin/connectors";
const ZH_FIELDS = {
  name: "名称", enabled: "启用", account_sid: "Account SID", auth_token: "Auth Token",
  from_number: "发送号码", messaging_service_sid: "Messaging Service SID", api_base_url: "API 地址",
  status_callbacks: "状态回调", voice_language: "语音语言", voice_max_message_seconds: "最长留言（秒）",
  app_id: "AppID", app_secret: "AppSecret", token: "Token", encoding_aes_key: "EncodingAESKey",
  previous_encoding_aes_key: "上一个 EncodingAESKey", max_clock_skew_seconds: "允许时钟偏差（秒）",
  app_key: "App Key", access_token: "Access Token", reply_window_hours: "回复窗口（小时）",
  imap_host: "IMAP 服务器", imap_port: "IMAP 端口", imap_security: "IMAP 加密", username: "用户名",
  password: "密码", oauth2_token: "OAuth2 令牌", folder: "文件夹", processed_folder: "已处理文件夹",
  smtp_host: "SMTP 服务器", smtp_port: "SMTP 端口", smtp_security: "SMTP 加密",
  from_address: "发件地址", smtp_username: "SMTP 用户名", smtp_password: "SMTP 密码",
};

const EXAMPLES = { name: "tp-sms", account_sid: "AC…", from_number: "+8610…",
  messaging_service_sid: "MG…", app_id: "wx…", app_key: "1234567890", imap_host: "imap.example.com",
  smtp_host: "smtp.example.com", from_address: "TP客服 <service@tp.example>" };

function kindOf(prop) {
  const options = prop.anyOf ? prop.anyOf.filter((p) => p.type !== "null") : [prop];
  const main = options[0] || {};
  return { ...main, ...prop, type: main.type, enum: main.enum || prop.enum,
    secret: Boolean(prop.writeOnly || main.writeOnly || main.format === "password") };
}

function input(name, prop, value, editing) {
  const kind = kindOf(prop);
  const common = { name, testid: `field-${name}` };
  if (kind.enum) return select(common, kind.enum.map((v) => [v, v]), value ?? kind.default);
  if (kind.type === "boolean") {
    return h("input", { ...common, type: "checkbox", checked: value ?? kind.default ?? false });
  }
  const type = kind.secret ? "password" : ["integer", "number"].includes(kind.type) ? "number" : "text";
  const shown = kind.secret ? "" : value ?? kind.default ?? "";
  return h("input", { ...common, type, value: shown, autocomplete: kind.secret ? "new-password" : "off",
    title: kind.pattern || null,
    placeholder: kind.secret && editing ? t("keep_secret") : EXAMPLES[name] || "" });
}

function readForm(form, schema, editing) {
  const out = {};
  for (const [name, prop] of Object.entries(schema.properties)) {
    const el = form.elements.namedItem(name);
    if (!el) continue;
    const kind = kindOf(prop);
    if (kind.type === "boolean") out[name] = el.checked;
    else if (el.value.trim() === "") continue;
    else if (["integer", "number"].includes(kind.type)) out[name] = Number(el.value);
    else out[name] = el.value.trim();
    if (editing && kind.secret && !el.value) delete out[name];
  }
  return out;
}

function connectorForm(schemas, existing, done) {
  const channels = Object.keys(schemas.channels);
  const channel = existing ? existing.channel : channels.includes("twilio") ? "twilio" : channels[0];
  const holder = h("div");
  const picker = existing ? null : select({ testid: "connector-channel",
    onchange: (e) => paint(e.target.value) }, channels.map((c) => [c, label("channel", c)]), channel);

  function paint(name) {
    const schema = schemas.channels[name];
    const required = new Set(schema.required || []);
    const fields = Object.entries(schema.properties).filter(([key]) => key !== "channel")
      .map(([key, prop]) => field(key,
        `${lang() === "zh" && ZH_FIELDS[key] ? ZH_FIELDS[key] : prop.title || key}${required.has(key) ? " *" : ""}`,
        input(key, prop, existing?.config?.[key], Boolean(existing))));
    const skip = h("input", { type: "checkbox", testid: "skip-check" });
    const form = h("form", { class: "form", testid: "connector-form" },
      h("p", { class: "form-error", testid: "form-error", hidden: true }), fields,
      h("div", { class: "form-actions" },
        h("button", { type: "submit", class: "primary", testid: "connector-save" }, t("save")),
        h("label", { class: "check" }, skip, t("save_only")),
        h("button", { type: "button", onclick: () => done(false) }, t("cancel"))));
    if (existing) form.elements.namedItem("name").readOnly = true;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { ...readForm(form, schema, Boolean(existing)), channel: name };
      if (existing) delete body.name;
      const path = existing ? `${URL}/${encodeURIComponent(existing.name)}` : URL;
      const saved = await guarded(() => api(path, { method: existing ? "PUT" : "POST", body,
        query: { skip_check: skip.checked } }), form);
      if (saved) {
        toast(t("saved"));
        done(true);
      }
    });
    clear(holder, form);
  }
  paint(channel);
  return panel(existing ? `${t("edit")} ${existing.name}` : t("add_connector"), picker, holder);
}

async function diagnostics(item) {
  const found = await guarded(() => api(`${URL}/${encodeURIComponent(item.name)}/diagnostics`));
  if (!found) return;
  const dialog = h("dialog", { testid: "diagnostics" },
    h("h2", {}, `${t("diagnostics")} · ${item.name}`),
    h("h3", {}, t("counters")),
    table([[t("name"), ([k]) => k], ["#", ([, v]) => String(v)]], Object.entries(found.counters), "counter"),
    h("h3", {}, t("last_errors")),
    found.last_errors.length ? table([[t("at"), (e) => formatTime(e.at)], [t("action"), (e) => e.kind],
      ["code", (e) => e.code || ""], [t("reason"), (e) => e.reason || ""]], found.last_errors, "error")
      : h("p", { class: "muted" }, t("none")),
    h("pre", { class: "payload" }, JSON.stringify(found.config, null, 2)),
    h("form", { method: "dialog" }, h("button", {}, t("close"))));
  document.body.append(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  dialog.showModal();
}

function urls(item) {
  if (!item.webhook_urls.length) return h("span", { class: "muted" }, "—");
  const more = item.webhook_urls.filter((u) => u !== item.webhook_url);
  return h("div", { class: "url-list" },
    item.webhook_url && h("code", { testid: "webhook-url" }, item.webhook_url),
    more.length > 0 && h("details", {}, h("summary", {}, `+${more.length}`),
      h("div", { class: "url-list" }, more.map((u) => h("code", { testid: "webhook-urls" }, u)))));
}

function stateTag(item) {
  const kind = item.state === "ready" ? "ok" : item.state === "retrying" ? "warn" : "bad";
  return h("span", { class: `tag ${kind}`, testid: "connector-state", title: item.state_reason || "" },
    label("state", item.enabled ? item.state : "disabled"));
}

export async function render(box, ctx) {
  const [list, schemas] = await Promise.all([api(URL), api(`${URL}/schema`)]);
  const formSlot = h("div");
  const reload = () => render(box, ctx);
  const act = (item, what) => guarded(async () => {
    const result = await api(`${URL}/${encodeURIComponent(item.name)}/${what}`, { method: "POST" });
    if (what === "check") toast(t("test_ok"));
    reload();
    return result;
  });
  const open = (existing) => clear(formSlot, connectorForm(schemas, existing, (saved) => {
    clear(formSlot);
    if (saved) reload();
  }));
  const actions = (item) => h("div", { class: "actions" },
    h("button", { class: "small", testid: "connector-test", onclick: () => act(item, "check") }, t("test")),
    h("button", { class: "small", onclick: () => diagnostics(item) }, t("diagnostics")),
    item.source === "console" && h("button", { class: "small", onclick: () => open(item) }, t("edit")),
    item.source === "console" && h("button", { class: "small",
      onclick: () => act(item, item.enabled ? "disable" : "enable") },
    item.enabled ? t("disable") : t("enable")));
  clear(box, panel(t("connectors"),
    h("button", { class: "primary", testid: "add-connector", onclick: () => open(null) }, t("add_connector")),
    table([
      [t("name"), (c) => h("strong", { testid: "connector-name" }, c.name)],
      [t("channel"), (c) => h("span", {}, channelBadge(c.channel, "small"), " ", label("channel", c.channel))],
      [t("source"), (c) => (c.source === "file" ? t("read_only_file") : c.source)],
      [t("state"), stateTag],
      [t("enabled"), (c) => yesNo(c.enabled)],
      [t("webhook"), urls],
      [t("actions"), actions],
    ], list, "connector")), formSlot);
  return null;
}
