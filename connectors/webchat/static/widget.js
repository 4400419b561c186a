/* omnidesk website chat widget: one file, no dependencies, nothing fetched but the desk's API.
 *
 * Embed:  <script src="https://desk.example/webchat/tp-web/widget.js" async></script>
 * Config: window.omnideskChat = {user_id, user_hash, language} (optional, read at start).
 *
 * Protocol: POST {base}/session, WebSocket {ws_url}?token=…, POST {base}/upload, {base}/contact.
 * Every message carries a client_id and stays in an outbox (memory + localStorage) until the
 * server acks it; after a reconnect the outbox is re-sent with the same ids (stored once).
 * Customer text is only ever rendered with textContent, never as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !/\/widget\.js(\?|#|$)/.test(script.src || "")) {
    var all = document.getElementsByTagName("script");
    for (var i = all.length - 1; i >= 0; i--) {
      if (/\/widget\.js(\?|#|$)/.test(all[i].src || "")) { script = all[i]; break; }
    }
  }
  if (!script) return;
  var SRC = new URL(script.src, location.href);
  var BASE = SRC.origin + SRC.pathname.replace(/\/widget\.js$/, "");
  var NAME = decodeURIComponent(BASE.split("/").pop() || "webchat");
  var loaded = (window.__omnideskChatLoaded = window.__omnideskChatLoaded || {});
  if (loaded[NAME]) return;
  loaded[NAME] = true;

  var CFG = window.omnideskChat || {};
  var KEY = "omnidesk:" + NAME + ":";
  var PING_MS = 25000, PONG_WAIT_MS = 10000, MAX_BACKOFF_MS = 10000, TYPING_SHOW_MS = 5000;

  // -- words ------------------------------------------------------------------------------------

  var WORDS = {
    zh: {
      title: "在线客服", open: "打开在线客服", close: "关闭在线客服", input: "输入消息",
      placeholder: "输入消息…", send: "发送", handoff: "转人工",
      handoffText: "转人工", attach: "发送图片", sending: "发送中", sent: "已发送", read: "已读",
      failed: "发送失败", typing: "客服正在输入…", botTyping: "智能助手正在输入…",
      bot: "智能助手 24 小时为您服务", queued: "正在为您转接人工客服…",
      queuedEta: "正在为您转接人工客服，预计等待 {n} 分钟", agent: "人工客服已接入",
      agentNamed: "人工客服 {name} 为您服务", afterHours: "人工客服 09:00–18:00 在线，请留下联系方式",
      afterHoursEta: "人工客服将于 {when} 回复您，请留下联系方式",
      connecting: "正在连接…", offline: "网络已断开，恢复后自动重连",
      reconnecting: "连接中断，正在重连…", refused: "此网站未获准使用在线客服",
      unavailable: "暂时无法连接客服，正在重试…", you: "我", botName: "智能助手", agentName: "客服",
      contactTitle: "留下联系方式，我们会尽快回复您", name: "姓名", email: "邮箱", phone: "手机号",
      submit: "提交", later: "稍后再说", contactNeed: "请填写邮箱或手机号",
      contactThanks: "谢谢，我们会尽快联系您。", contactFailed: "提交失败，请检查后重试",
      tooLong: "消息太长（最多 {n} 字）", rateLimited: "发送太频繁，{n} 秒后自动重发",
      imageTooBig: "图片不能超过 {n} MB", imageType: "只能发送图片（{types}）",
      uploadFailed: "图片上传失败", unread: "{n} 条新消息", image: "图片",
    },
    en: {
      title: "Chat with us", open: "Open chat", close: "Close chat", input: "Message",
      placeholder: "Type a message…", send: "Send",
      handoff: "Talk to a person", handoffText: "Talk to a person", attach: "Send an image",
      sending: "Sending", sent: "Sent", read: "Read", failed: "Not sent",
      typing: "An agent is typing…", botTyping: "The assistant is typing…",
      bot: "Our assistant answers 24 hours a day", queued: "Connecting you to a person…",
      queuedEta: "Connecting you to a person, about {n} min", agent: "You are chatting with a person",
      agentNamed: "You are chatting with {name}",
      afterHours: "Our specialists are in 09:00–18:00; leave your contact details",
      afterHoursEta: "A specialist will answer {when}; leave your contact details",
      connecting: "Connecting…", offline: "You are offline; we reconnect when you are back",
      reconnecting: "Connection lost, reconnecting…",
      refused: "This site may not use the chat", unavailable: "Chat unavailable, retrying…",
      you: "You", botName: "Assistant", agentName: "Agent",
      contactTitle: "Leave your details and we will get back to you", name: "Name",
      email: "Email", phone: "Phone", submit: "Send details", later: "Not now",
      contactNeed: "Please give an email or a phone number",
      contactThanks: "Thank you, we will get back to you soon.",
      contactFailed: "That did not work; please check and try again",
      tooLong: "Message too long (at most {n} characters)",
      rateLimited: "Too many messages; resending in {n} s",
      imageTooBig: "Images must be under {n} MB", imageType: "Only images can be sent ({types})",
      uploadFailed: "The image could not be uploaded", unread: "{n} new messages", image: "Image",
    },
  };
  var LANG = /^zh/i.test(CFG.language || document.documentElement.lang || "") ? "zh" : "en";
  if (CFG.language && !/^zh/i.test(CFG.language)) LANG = "en";
  var W = WORDS[LANG];
  function t(key, vars) {
    return W[key].replace(/\{(\w+)\}/g, function (_, k) { return vars && k in vars ? vars[k] : ""; });
  }

  // -- storage ----------------------------------------------------------------------------------

  function load(key, fallback) {
    try {
      var raw = localStorage.getItem(KEY + key);
      return raw === null ? fallback : JSON.parse(raw);
    } catch (e) { return fallback; }
  }
  function save(key, value) {
    try {
      if (value === null) localStorage.removeItem(KEY + key);
      else localStorage.setItem(KEY + key, JSON.stringify(value));
    } catch (e) { /* private mode or full: keep working from memory */ }
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(b);
    else for (var j = 0; j < 16; j++) b[j] = Math.floor(Math.random() * 256);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
      "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  // -- state ------------------------------------------------------------------------------------

  var S = {
    token: load("token", null), session: null, ws: null, open: false, started: false,
    lastSeq: 0, maxSeq: 0, readUpTo: 0, readSent: 0, state: null, eta: null, etaText: null, zone: null, agentName: null,
    outbox: load("outbox", []), byId: {}, byClient: {}, attempt: 0, timer: null,
    pingTimer: null, pongTimer: null, typingTimer: null, typingSent: 0, unread: 0,
    stopped: false, limits: { max_message_chars: 2000, max_image_bytes: 5242880,
      image_types: ["image/jpeg", "image/png", "image/gif", "image/webp"] },
  };
  if (!Array.isArray(S.outbox)) S.outbox = [];

  // -- DOM helpers ------------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    for (var k in attrs || {}) {
      if (attrs[k] === null || attrs[k] === undefined) continue;
      if (k === "text") node.textContent = attrs[k];
      else if (k.slice(0, 2) === "on") node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  var ICON_CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
  var ICON_CLOSE = "M6 6l12 12M18 6L6 18";
  var ICON_SEND = "M3 20l18-8L3 4v6l12 2-12 2z";
  var ICON_IMAGE = "M4 5h16v14H4zM4 16l5-5 4 4 3-3 4 4M15.5 9.5a1.5 1.5 0 1 0 0-.01";
  function icon(d, stroke) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", d);
    if (stroke) {
      path.setAttribute("fill", "none");
      path.setAttribute("stroke", "currentColor");
      path.setAttribute("stroke-width", "2");
      path.setAttribute("stroke-linecap", "round");
      path.setAttribute("stroke-linejoin", "round");
    } else path.setAttribute("fill", "currentColor");
    svg.appendChild(path);
    return svg;
  }

  var CSS = [
    ":host{all:initial;position:fixed;right:20px;bottom:20px;z-index:2147483000;",
    "font:14px/1.45 system-ui,-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;color:#1f2933}",
    "*{box-sizing:border-box}",
    "button{font:inherit;cursor:pointer}",
    ":focus-visible{outline:3px solid #f59e0b;outline-offset:2px}",
    ".launcher{width:58px;height:58px;border-radius:50%;border:0;background:#0b6bcb;color:#fff;",
    "box-shadow:0 6px 20px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center;",
    "position:relative}",
    ".launcher svg{width:28px;height:28px}",
    ".badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;",
    "border-radius:10px;background:#d7263d;color:#fff;font-size:12px;line-height:20px}",
    ".panel{position:absolute;right:0;bottom:72px;width:370px;height:min(600px,calc(100vh - 110px));",
    "background:#fff;border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.28);display:flex;",
    "flex-direction:column;overflow:hidden}",
    ".panel[hidden],[hidden]{display:none!important}",
    "header{background:#0b6bcb;color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}",
    "header h2{font-size:16px;margin:0;flex:1;font-weight:600}",
    ".icon-btn{background:transparent;border:0;color:inherit;width:36px;height:36px;",
    "border-radius:8px;display:flex;align-items:center;justify-content:center;padding:0}",
    ".icon-btn svg{width:22px;height:22px}",
    ".status{padding:6px 14px;font-size:12px;background:#eef5fc;color:#334e68;",
    "border-bottom:1px solid #d9e2ec}",
    ".status[data-state=offline],.status[data-state=reconnecting],.status[data-state=refused],",
    ".status[data-state=unavailable]{background:#fff4e5;color:#8a4b00}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;",
    "background:#f7f9fb;overscroll-behavior:contain}",
    ".msg{max-width:82%;display:flex;flex-direction:column;gap:2px}",
    ".msg[data-from=visitor]{align-self:flex-end;align-items:flex-end}",
    ".msg[data-from=bot],.msg[data-from=agent]{align-self:flex-start}",
    ".who{font-size:11px;color:#627d98}",
    ".bubble{padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-break:break-word;",
    "background:#fff;border:1px solid #d9e2ec}",
    ".msg[data-from=visitor] .bubble{background:#0b6bcb;color:#fff;border-color:#0b6bcb}",
    ".msg[data-state=failed] .bubble{background:#fde8e8;color:#7f1d1d;border-color:#f5b5b5}",
    ".bubble img{display:block;max-width:100%;max-height:240px;border-radius:8px;margin-top:4px}",
    ".bubble a{color:inherit}",
    ".meta{font-size:11px;color:#829ab1}",
    ".actions{display:flex;flex-wrap:wrap;gap:6px;margin-top:4px}",
    ".chip{border:1px solid #0b6bcb;color:#0b6bcb;background:#fff;border-radius:16px;",
    "padding:4px 12px}",
    ".typing{font-size:12px;color:#627d98;padding:0 14px 6px;background:#f7f9fb}",
    ".notice{font-size:12px;color:#8a4b00;background:#fff4e5;padding:6px 14px}",
    "form.contact{padding:10px 14px;border-top:1px solid #d9e2ec;background:#fff;display:grid;gap:6px}",
    "form.contact p{margin:0;font-weight:600}",
    "form.contact label{display:grid;gap:2px;font-size:12px;color:#486581}",
    "form.contact input{font:inherit;padding:6px 8px;border:1px solid #bcccdc;border-radius:6px}",
    ".row{display:flex;gap:8px;justify-content:flex-end}",
    ".primary{background:#0b6bcb;color:#fff;border:0;border-radius:8px;padding:7px 14px}",
    ".secondary{background:#fff;color:#334e68;border:1px solid #bcccdc;border-radius:8px;",
    "padding:7px 14px}",
    ".tools{display:flex;gap:6px;padding:6px 10px 0;background:#fff;border-top:1px solid #d9e2ec}",
    ".composer{display:flex;align-items:flex-end;gap:6px;padding:8px 10px 10px;background:#fff}",
    ".composer .icon-btn{color:#486581}",
    "textarea{flex:1;font:inherit;resize:none;border:1px solid #bcccdc;border-radius:10px;",
    "padding:8px 10px;max-height:120px;min-height:38px}",
    ".send{background:#0b6bcb;color:#fff;border-radius:10px}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "@media (max-width:480px){:host{right:12px;bottom:12px}",
    ".panel{position:fixed;inset:0;width:100%;height:100%;height:100dvh;border-radius:0}",
    ":host([data-open]) .launcher{display:none}}",
    "@media (prefers-reduced-motion:no-preference){.launcher{transition:transform .15s}",
    ".launcher:hover{transform:scale(1.06)}}",
  ].join("");

  // -- the UI -----------------------------------------------------------------------------------

  var host = el("div", { id: "omnidesk-chat-" + NAME, "data-omnidesk": NAME });
  var root = host.attachShadow({ mode: "open" });
  var ui = {};

  function build() {
    var panelId = "omnidesk-panel", titleId = "omnidesk-title";
    ui.badge = el("span", { class: "badge", "data-testid": "omnidesk-unread", hidden: "" });
    ui.launcher = el("button", {
      type: "button", class: "launcher", "data-testid": "omnidesk-launcher",
      "aria-label": W.open, "aria-expanded": "false", "aria-controls": panelId, onclick: toggle,
    }, [icon(ICON_CHAT), ui.badge]);
    ui.status = el("div", { class: "status", "data-testid": "omnidesk-status", role: "status",
      text: W.connecting, "data-state": "connecting" });
    ui.log = el("div", { class: "log", role: "log", "aria-live": "polite",
      "aria-label": W.title, tabindex: "0", "data-testid": "omnidesk-log" });
    ui.typing = el("div", { class: "typing", "data-testid": "omnidesk-typing", hidden: "",
      "aria-live": "polite" });
    ui.notice = el("div", { class: "notice", "data-testid": "omnidesk-notice", role: "alert",
      hidden: "" });
    ui.contact = buildContact();
    ui.handoff = el("button", { type: "button", class: "chip", "data-testid": "omnidesk-handoff",
      text: W.handoff, onclick: handoff });
    ui.tools = el("div", { class: "tools" }, [ui.handoff]);
    ui.file = el("input", { type: "file", accept: "image/*", hidden: "", tabindex: "-1",
      "aria-hidden": "true", "data-testid": "omnidesk-file", onchange: onFile });
    ui.attach = el("button", { type: "button", class: "icon-btn", "aria-label": W.attach,
      title: W.attach, "data-testid": "omnidesk-attach",
      onclick: function () { ui.file.click(); } }, [icon(ICON_IMAGE, true)]);
    ui.input = el("textarea", { id: "omnidesk-input", rows: "1", "data-testid": "omnidesk-input",
      placeholder: W.placeholder, autocomplete: "off", enterkeyhint: "send",
      onkeydown: onKey, oninput: onInput });
    ui.send = el("button", { type: "button", class: "icon-btn send", "aria-label": W.send,
      title: W.send, "data-testid": "omnidesk-send", onclick: sendFromInput },
    [icon(ICON_SEND)]);
    ui.panel = el("section", { id: panelId, class: "panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": titleId, hidden: "", "data-testid": "omnidesk-panel", onkeydown: onPanelKey,
    }, [
      el("header", {}, [
        el("h2", { id: titleId, text: W.title }),
        el("button", { type: "button", class: "icon-btn", "aria-label": W.close, title: W.close,
          "data-testid": "omnidesk-close", onclick: close }, [icon(ICON_CLOSE, true)]),
      ]),
      ui.status, ui.log, ui.typing, ui.notice, ui.contact,
      ui.tools,
      el("div", { class: "composer" }, [
        ui.attach, ui.file,
        el("label", { for: "omnidesk-input", class: "sr", text: W.input }),
        ui.input, ui.send,
      ]),
    ]);
    root.appendChild(el("style", { text: CSS }));
    root.appendChild(ui.panel);
    root.appendChild(ui.launcher);
    document.body.appendChild(host);
  }

  function buildContact() {
    function field(name, type, label, auto) {
      var id = "omnidesk-contact-" + name;
      return el("label", { for: id }, [document.createTextNode(label),
        el("input", { id: id, name: name, type: type, autocomplete: auto,
          "data-testid": "omnidesk-contact-" + name })]);
    }
    var msg = el("div", { class: "meta", role: "alert", "data-testid": "omnidesk-contact-message" });
    var form = el("form", { class: "contact", "data-testid": "omnidesk-contact-form", hidden: "",
      novalidate: "", onsubmit: function (e) { e.preventDefault(); submitContact(form, msg); } }, [
      el("p", { text: W.contactTitle }),
      field("name", "text", W.name, "name"), field("email", "email", W.email, "email"),
      field("phone", "tel", W.phone, "tel"), msg,
      el("div", { class: "row" }, [
        el("button", { type: "button", class: "secondary", text: W.later,
          "data-testid": "omnidesk-contact-later",
          onclick: function () { form.hidden = true; ui.input.focus(); } }),
        el("button", { type: "submit", class: "primary", text: W.submit,
          "data-testid": "omnidesk-contact-submit" }),
      ]),
    ]);
    return form;
  }

  // -- open / close / keys ----------------------------------------------------------------------

  function toggle() { if (S.open) close(); else open(); }
  function open() {
    S.open = true;
    ui.panel.hidden = false;
    host.setAttribute("data-open", "");
    ui.launcher.setAttribute("aria-expanded", "true");
    ui.launcher.setAttribute("aria-label", W.close);
    setUnread(0);
    start();
    ui.input.focus();
    scrollDown();
    sendRead();
  }
  function close() {
    S.open = false;
    ui.panel.hidden = true;
    host.removeAttribute("data-open");
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.launcher.setAttribute("aria-label", W.open);
    ui.launcher.focus();
  }
  function onPanelKey(e) {
    if (e.key === "Escape") { e.preventDefault(); close(); }
  }
  function onKey(e) {
    if (e.key !== "Enter" || e.shiftKey || e.isComposing || e.keyCode === 229) return;
    e.preventDefault();
    sendFromInput();
  }
  function onInput() {
    ui.input.style.height = "auto";
    ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 120) + "px";
    var now = Date.now();
    if (now - S.typingSent > 3000 && ui.input.value) {
      S.typingSent = now;
      frame({ type: "typing" });
    }
  }
  function setUnread(n) {
    S.unread = n;
    ui.badge.hidden = n === 0;
    ui.badge.textContent = n > 9 ? "9+" : String(n);
    ui.launcher.setAttribute("aria-label", S.open ? W.close :
      n ? W.open + " (" + t("unread", { n: n }) + ")" : W.open);
  }
  function scrollDown() { ui.log.scrollTop = ui.log.scrollHeight; }
  function notice(text) {
    ui.notice.textContent = text || "";
    ui.notice.hidden = !text;
  }

  // -- status -----------------------------------------------------------------------------------

  function connection(kind) {
    // kind: "ok" | "connecting" | "offline" | "reconnecting" | "refused" | "unavailable"
    S.connection = kind;
    renderStatus();
  }
  function renderStatus() {
    var kind = S.connection, text, state = kind;
    if (kind === "ok" || (kind === "connecting" && S.state)) {
      state = S.state || "bot";
      text = stateText(state, S.eta);
    } else text = W[kind] || W.connecting;
    ui.status.textContent = text;
    ui.status.setAttribute("data-state", state);
    ui.tools.hidden = !!S.state && S.state !== "bot";
  }
  function stateText(state, eta) {
    if (state === "queued") {
      // eta: an ISO time (or seconds to wait); within the hour it reads as "about N minutes".
      var wait = typeof eta === "number" ? eta * 1000 : eta ? new Date(eta).getTime() - Date.now() : 0;
      var minutes = Math.ceil(wait / 60000);
      return minutes > 0 && minutes <= 60 ? t("queuedEta", { n: minutes }) : W.queued;
    }
    if (state === "agent") return S.agentName ? t("agentNamed", { name: S.agentName }) : W.agent;
    if (state === "after_hours") {
      // The desk's own words for when a person answers, in its zone and saying so: the same
      // time the bot gives, whatever the visitor's clock or zone.
      var when = (S.etaText && (S.etaText[LANG] || S.etaText.en)) || formatWhen(eta);
      return when ? t("afterHoursEta", { when: when }) : W.afterHours;
    }
    return W.bot;
  }
  function formatWhen(eta) {
    if (!eta || typeof eta !== "string") return "";
    var d = new Date(eta);
    if (isNaN(d.getTime())) return eta;
    var opts = { hour: "2-digit", minute: "2-digit", month: "numeric", day: "numeric",
      timeZoneName: "short" };
    if (S.zone) opts.timeZone = S.zone;
    return d.toLocaleString(LANG === "zh" ? "zh-CN" : "en", opts);
  }
  function setState(state, eta, f) {
    S.state = state;
    S.eta = eta === undefined ? null : eta;
    S.etaText = (f && f.eta_text) || null;
    if (f && f.time_zone) S.zone = f.time_zone;
    renderStatus();
    if (state === "after_hours" && !load("contact", false)) ui.contact.hidden = false;
  }

  // -- messages ---------------------------------------------------------------------------------

  function findBySeq(seq) {
    var nodes = ui.log.children;
    for (var k = 0; k < nodes.length; k++) {
      var s = Number(nodes[k].getAttribute("data-seq"));
      if (s && s > seq) return nodes[k];
    }
    return null;
  }
  function safeUrl(url) {
    try {
      var u = new URL(url, BASE + "/");
      return u.protocol === "https:" || u.protocol === "http:" ? u.href : null;
    } catch (e) { return null; }
  }
  function render(m) {
    // m: a ServerMessage, or a local pending one ({client_id, text, from:"visitor", pending:true})
    var node = (m.id && S.byId[m.id]) || (m.client_id && S.byClient[m.client_id]);
    var fresh = !node;
    if (fresh) {
      node = el("div", { class: "msg", "data-testid": "omnidesk-message", "data-from": m.from });
      var who = m.from === "visitor" ? W.you : m.from === "agent" ? (m.agent_name || W.agentName)
        : S.botName || W.botName;
      node.appendChild(el("span", { class: "who", text: who }));
      var bubble = el("div", { class: "bubble" });
      if (m.text) bubble.appendChild(el("span", { "data-testid": "omnidesk-message-text",
        text: m.text }));
      (m.attachments || []).forEach(function (a) {
        var url = safeUrl(a.url);
        if (!url) return;
        if (/^image\//.test(a.content_type || "")) {
          bubble.appendChild(el("img", { src: url, alt: a.name || W.image, loading: "lazy",
            "data-testid": "omnidesk-image" }));
        } else {
          bubble.appendChild(el("a", { href: url, target: "_blank", rel: "noopener noreferrer",
            text: a.name || url }));
        }
      });
      node.appendChild(bubble);
      if (m.actions && m.actions.length && m.from !== "visitor") node.appendChild(actions(m.actions));
      node.appendChild(el("span", { class: "meta", "data-testid": "omnidesk-message-meta" }));
    }
    if (m.client_id) {
      node.setAttribute("data-client-id", m.client_id);
      S.byClient[m.client_id] = node;
    }
    if (m.id) {
      node.setAttribute("data-id", m.id);
      S.byId[m.id] = node;
    }
    if (m.seq) {
      node.setAttribute("data-seq", m.seq);
      noteSeq(m.seq, !m.ack);
    }
    if (m.sent_at) node.setAttribute("data-sent-at", m.sent_at);
    if (m.from === "visitor") {
      setDelivery(node, m.pending ? "sending" : m.seq && m.seq <= S.readUpTo ? "read" : "sent");
    } else setMeta(node, "");
    if (fresh) {
      var before = m.seq ? findBySeq(m.seq) : null;
      var stick = ui.log.scrollHeight - ui.log.scrollTop - ui.log.clientHeight < 60;
      ui.log.insertBefore(node, before);
      if (stick || m.from === "visitor") scrollDown();
    }
    return fresh;
  }
  function actions(list) {
    var box = el("div", { class: "actions" });
    list.forEach(function (a) {
      if (a.type !== "handoff") return;
      box.appendChild(el("button", { type: "button", class: "chip", text: a.label || W.handoff,
        "data-testid": "omnidesk-action", onclick: handoff }));
    });
    return box;
  }
  function timeOf(node) {
    var at = node.getAttribute("data-sent-at");
    var d = at ? new Date(at) : null;
    if (!d || isNaN(d.getTime())) return "";
    // In the desk's zone, like every time the chat shows (its hours and the bot's words).
    var opts = { hour: "2-digit", minute: "2-digit" };
    if (S.zone) opts.timeZone = S.zone;
    return d.toLocaleTimeString(LANG === "zh" ? "zh-CN" : "en", opts);
  }
  function setMeta(node, extra) {
    var parts = [timeOf(node), extra].filter(Boolean);
    node.querySelector(".meta").textContent = parts.join(" · ");
  }
  function setDelivery(node, state) {
    if (node.getAttribute("data-state") === "read" && state === "sent") state = "read";
    node.setAttribute("data-state", state);
    setMeta(node, W[state]);
  }
  function markRead(upTo) {
    S.readUpTo = Math.max(S.readUpTo, upTo);
    var nodes = ui.log.querySelectorAll('[data-from="visitor"][data-seq]');
    for (var k = 0; k < nodes.length; k++) {
      if (Number(nodes[k].getAttribute("data-seq")) <= S.readUpTo) setDelivery(nodes[k], "read");
    }
  }
  function noteSeq(seq, seen) {
    // maxSeq: the newest message known (read marks). lastSeq, the resume cursor, counts only
    // messages received in full: an ack's seq can overtake an agent reply still on its way
    // (seq is the row id), and resuming after it would skip that reply.
    if (seq > S.maxSeq) S.maxSeq = seq;
    if (seen && seq > S.lastSeq) S.lastSeq = seq;
  }

  // -- outbox and sending -----------------------------------------------------------------------

  function sendFromInput() {
    var text = ui.input.value.replace(/^\s+|\s+$/g, "");
    if (!text) return;
    var max = S.limits.max_message_chars;
    if (max && text.length > max) { notice(t("tooLong", { n: max })); return; }
    ui.input.value = "";
    onInput();
    post(text, null, null);
    ui.input.focus();
  }
  function handoff() {
    post(W.handoffText, null, null);
    ui.input.focus(); // the button may hide once the chat is queued for a person
  }
  function post(text, attachmentId, attachment) {
    notice("");
    var item = { client_id: uuid(), text: text, attachment_id: attachmentId,
      attachments: attachment ? [attachment] : [] };
    S.outbox.push(item);
    save("outbox", S.outbox);
    render({ client_id: item.client_id, text: text, from: "visitor", pending: true,
      attachments: item.attachments });
    start();
    transmit(item);
  }
  function transmit(item) {
    frame({ type: "message", client_id: item.client_id, text: item.text,
      attachment_id: item.attachment_id || null });
  }
  function settle(clientId) {
    S.outbox = S.outbox.filter(function (o) { return o.client_id !== clientId; });
    save("outbox", S.outbox);
  }
  function flushOutbox() { S.outbox.forEach(transmit); }
  function frame(data) {
    if (S.ws && S.ws.readyState === 1) {
      try { S.ws.send(JSON.stringify(data)); return true; } catch (e) { return false; }
    }
    return false;
  }
  function sendRead() {
    if (!S.open || document.visibilityState === "hidden" || S.maxSeq <= S.readSent) return;
    if (frame({ type: "read", up_to: S.maxSeq })) S.readSent = S.maxSeq;
  }

  // -- server frames ----------------------------------------------------------------------------

  var HANDLERS = {
    ack: function (f) {
      var node = S.byClient[f.client_id];
      settle(f.client_id);
      if (node) render({ client_id: f.client_id, id: f.id, seq: f.seq, from: "visitor", ack: true });
      else if (f.seq) noteSeq(f.seq, false);
    },
    message: function (f) {
      if (f.client_id) settle(f.client_id);
      var fresh = render(f);
      if (f.from !== "visitor") {
        ui.typing.hidden = true;
        if (f.from === "agent" && f.agent_name) S.agentName = f.agent_name;
        if (fresh && (!S.open || document.visibilityState === "hidden")) setUnread(S.unread + 1);
        if (f.from === "agent") renderStatus();
      }
      sendRead();
    },
    typing: function (f) {
      ui.typing.textContent = f.from === "bot" ? W.botTyping : W.typing;
      ui.typing.hidden = false;
      clearTimeout(S.typingTimer);
      S.typingTimer = setTimeout(function () { ui.typing.hidden = true; }, TYPING_SHOW_MS);
    },
    read: function (f) { markRead(Number(f.up_to) || 0); },
    state: function (f) { setState(f.state, f.eta, f); },
    error: function (f) {
      var node = f.client_id && S.byClient[f.client_id];
      if (f.code === "rate_limited") {
        var wait = Math.max(1, Number(f.retry_after) || 5);
        notice(t("rateLimited", { n: Math.ceil(wait) }));
        setTimeout(function () { notice(""); flushOutbox(); }, wait * 1000);
        return;
      }
      if (f.code === "too_long") notice(t("tooLong", { n: S.limits.max_message_chars }));
      else notice(f.message || W.failed);
      if (f.client_id) settle(f.client_id);
      if (node) setDelivery(node, "failed");
    },
    pong: function () {},
  };

  function onFrame(event) {
    clearTimeout(S.pongTimer);
    var f;
    try { f = JSON.parse(event.data); } catch (e) { return; }
    var handler = f && HANDLERS[f.type];
    if (handler) handler(f);
  }

  // -- session and connection -------------------------------------------------------------------

  function start() {
    if (S.started) return;
    S.started = true;
    connection("connecting");
    openSession();
  }
  function openSession() {
    if (S.stopped) return;
    var body = {
      visitor_token: S.token, user_id: CFG.user_id || null, user_hash: CFG.user_hash || null,
      language: LANG, page_url: location.href, page_title: document.title || null,
    };
    fetch(BASE + "/session", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body), credentials: "omit", mode: "cors" })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) {
          return { status: r.status, data: data };
        });
      })
      .then(function (res) {
        if (res.status === 200) return onSession(res.data);
        if (res.status === 403) return refuse();
        if (res.status === 401 && S.token) { forgetToken(); return openSession(); }
        retryLater(openSession, "unavailable");
      })
      .catch(function () { retryLater(openSession, navigator.onLine === false ? "offline" : "unavailable"); });
  }
  function forgetToken() {
    S.token = null;
    save("token", null);
  }
  function refuse() {
    S.stopped = true;
    connection("refused");
    ui.input.disabled = ui.send.disabled = ui.attach.disabled = ui.handoff.disabled = true;
  }
  function onSession(data) {
    S.session = data;
    S.token = data.visitor_token;
    S.botName = data.bot_name || null;
    save("token", S.token);
    if (data.limits) {
      for (var k in data.limits) if (data.limits[k] !== null) S.limits[k] = data.limits[k];
      if (S.limits.image_types && S.limits.image_types.length) {
        ui.file.setAttribute("accept", S.limits.image_types.join(","));
      }
    }
    if (data.time_zone) S.zone = data.time_zone;
    (data.history || []).forEach(function (m) {
      if (m.client_id) settle(m.client_id);
      render(m);
    });
    S.outbox.forEach(function (o) {
      render({ client_id: o.client_id, text: o.text, from: "visitor", pending: true,
        attachments: o.attachments });
    });
    setState(data.state || "bot", data.eta, data);
    if (data.pre_chat_form && !load("contact", false)) ui.contact.hidden = false;
    if (S.open) scrollDown();
    connect();
  }
  function wsUrl() {
    var u = new URL(S.session.ws_url || "/webchat/" + encodeURIComponent(NAME) + "/ws", BASE + "/");
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.searchParams.set("token", S.token);
    return u.href;
  }
  function connect() {
    clearTimeout(S.timer);
    if (S.stopped || !S.session) return;
    if (S.ws && S.ws.readyState <= 1) return;
    if (navigator.onLine === false) { connection("offline"); return; }
    var ws;
    try { ws = new WebSocket(wsUrl()); } catch (e) { retryLater(connect, "reconnecting"); return; }
    S.ws = ws;
    ws.onopen = function () {
      if (S.ws !== ws) return;
      S.attempt = 0;
      connection("ok");
      ws.send(JSON.stringify({ type: "resume", after: S.lastSeq }));
      flushOutbox();
      S.readSent = 0;
      sendRead();
      heartbeat();
    };
    ws.onmessage = function (e) { if (S.ws === ws) onFrame(e); };
    ws.onclose = function (e) {
      if (S.ws !== ws) return;
      detach();
      if (e.code === 4403) return refuse();
      if (e.code === 4401) {
        forgetToken();
        S.session = null;
        return retryLater(openSession, "reconnecting");
      }
      retryLater(connect, navigator.onLine === false ? "offline" : "reconnecting");
    };
    ws.onerror = function () { /* onclose follows and schedules the reconnect */ };
  }
  function detach() {
    var ws = S.ws;
    S.ws = null;
    clearInterval(S.pingTimer);
    clearTimeout(S.pongTimer);
    return ws;
  }
  function drop() {
    // Give up on the socket now (offline, no pong): a dead link can keep it "open" for minutes,
    // and its close handshake can hang as long. Its late events are ignored (S.ws moved on).
    var ws = detach();
    if (!ws) return;
    try { ws.close(); } catch (e) { /* already closing */ }
    retryLater(connect, navigator.onLine === false ? "offline" : "reconnecting");
  }
  function retryLater(fn, kind) {
    connection(kind);
    if (S.stopped) return;
    clearTimeout(S.timer);
    if (kind === "offline") return; // the "online" event reconnects
    var delay = Math.min(MAX_BACKOFF_MS, 500 * Math.pow(2, S.attempt++));
    delay = delay / 2 + Math.random() * delay / 2; // jitter, so a desk restart is not stampeded
    S.timer = setTimeout(fn, delay);
  }
  function reconnectNow() {
    if (!S.started || S.stopped) return;
    S.attempt = 0;
    if (!S.session) { clearTimeout(S.timer); openSession(); return; }
    if (!S.ws) connect();
  }
  function heartbeat() {
    clearInterval(S.pingTimer);
    S.pingTimer = setInterval(function () {
      if (!frame({ type: "ping" })) return;
      clearTimeout(S.pongTimer);
      S.pongTimer = setTimeout(drop, PONG_WAIT_MS);
    }, PING_MS);
  }

  window.addEventListener("online", reconnectNow);
  window.addEventListener("offline", function () {
    // A socket over a dead link can look open for minutes; drop it and wait for "online".
    drop();
    if (S.started && !S.stopped) connection("offline");
  });
  document.addEventListener("keydown", function (e) {
    // Escape also closes when focus fell out of the panel (a clicked button that then hid).
    var active = document.activeElement;
    if (e.key === "Escape" && S.open && (active === document.body || active === host)) close();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "visible") return;
    if (S.ws && S.ws.readyState === 1) { frame({ type: "ping" }); sendRead(); } else reconnectNow();
  });

  // -- images and contact details ---------------------------------------------------------------

  function onFile() {
    var file = ui.file.files && ui.file.files[0];
    ui.file.value = "";
    if (!file) return;
    var types = S.limits.image_types || [];
    if (!/^image\//.test(file.type) || (types.length && types.indexOf(file.type) < 0)) {
      notice(t("imageType", { types: types.map(function (x) { return x.replace("image/", ""); }).join(", ") }));
      return;
    }
    if (S.limits.max_image_bytes && file.size > S.limits.max_image_bytes) {
      notice(t("imageTooBig", { n: Math.round(S.limits.max_image_bytes / 104857.6) / 10 }));
      return;
    }
    if (!S.token) { notice(W.uploadFailed); return; }
    var form = new FormData();
    form.append("file", file, file.name);
    form.append("visitor_token", S.token);
    fetch(BASE + "/upload", { method: "POST", body: form, credentials: "omit" })
      .then(function (r) { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(function (a) {
        post("", a.attachment_id, { url: a.url, content_type: a.content_type || file.type,
          name: file.name });
      })
      .catch(function () { notice(W.uploadFailed); });
  }

  function submitContact(form, msg) {
    var value = function (n) { return form.elements[n].value.replace(/^\s+|\s+$/g, "") || null; };
    var body = { visitor_token: S.token, name: value("name"), email: value("email"),
      phone: value("phone") };
    if (!body.email && !body.phone) { msg.textContent = W.contactNeed; return; }
    fetch(BASE + "/contact", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body), credentials: "omit" })
      .then(function (r) {
        if (r.ok) {
          save("contact", true);
          form.hidden = true;
          notice(W.contactThanks);
          ui.input.focus();
          return null;
        }
        return r.json().then(function (d) { msg.textContent = detailText(d) || W.contactFailed; });
      })
      .catch(function () { msg.textContent = W.contactFailed; });
  }
  function detailText(d) {
    var detail = d && d.detail;
    if (typeof detail === "string") return detail;
    if (Array.isArray(detail)) return detail.map(function (x) { return x && x.msg; }).join("; ");
    return "";
  }

  // -- boot -------------------------------------------------------------------------------------

  function boot() {
    build();
    // A returning visitor (stored token or unsent messages) reconnects at once so agent replies
    // arrive while the panel is closed; a new visitor costs the desk nothing until they open it.
    if (S.token || S.outbox.length) start();
  }
  if (document.body) boot();
  else document.addEventListener("DOMContentLoaded", boot);
})();
