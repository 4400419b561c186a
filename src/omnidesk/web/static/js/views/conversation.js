// A customer's conversation across every channel: messages, attachments, calls, notes.

import { h, safeUrl } from "../dom.js";
import { formatTime, label, t } from "../i18n.js";
import { channelBadge, formatBytes } from "./widgets.js";

const CALL_SUBJECT = /voicemail|call back|语音留言|回电/i;

function isCall(message) {
  const id = message.provider_message_id || "";
  return id.startsWith("call:") || id.startsWith("recording:")
    || CALL_SUBJECT.test(message.subject || "")
    || message.attachments.some((a) => (a.content_type || "").startsWith("audio/"));
}

/** Our URL for every attachment whose bytes we keep or can fetch (media the provider keeps
 * is fetched by the server on first view: provider URLs and tokens never reach the browser). */
function attachmentUrl(message, attachment, index) {
  if (attachment.storage_key || attachment.url || attachment.content_id) {
    return `/api/v1/messages/${message.id}/attachments/${index}`;
  }
  return null;
}

/** A picture or player whose media the provider no longer has becomes a short note. */
function unavailable(event) {
  event.target.replaceWith(h("span", { class: "att-file", testid: "attachment-unavailable" },
    `⚠ ${t("media_unavailable")}`));
}

function attachment(message, item, index) {
  const href = attachmentUrl(message, item, index);
  const type = item.content_type || "";
  const name = item.filename || type || "file";
  if (href && type.startsWith("image/")) {
    return h("a", { href, target: "_blank", rel: "noopener noreferrer", class: "att-image" },
      h("img", { src: href, alt: name, loading: "lazy", testid: "attachment-image",
        onerror: unavailable }));
  }
  if (href && type.startsWith("audio/")) {
    const caption = isCall(message) ? `🎙 ${t("recording")}` : `🔊 ${t("voice_message")}`;
    return h("figure", { class: "att-audio", testid: "recording" },
      h("figcaption", {}, caption),
      h("audio", { controls: true, preload: "metadata", src: href, onerror: unavailable }),
      h("a", { href, target: "_blank", rel: "noopener noreferrer" }, t("open_file")));
  }
  if (href && type.startsWith("video/")) {
    return h("figure", { class: "att-video", testid: "attachment-video" },
      h("video", { controls: true, preload: "metadata", src: href, onerror: unavailable }),
      h("a", { href, target: "_blank", rel: "noopener noreferrer" }, t("open_file")));
  }
  const chip = [`📎 ${name}`, item.size ? ` · ${formatBytes(item.size)}` : ""];
  return href
    ? h("a", { href, class: "att-file", target: "_blank", rel: "noopener noreferrer",
      testid: "attachment" }, chip)
    : h("span", { class: "att-file", testid: "attachment" }, chip);
}

function who(message) {
  if (message.direction === "inbound") {
    return message.sender_name || message.sender || label("channel", message.channel);
  }
  if (message.automatic || message.author === "system" || message.kind === "acknowledgement") {
    return t("automatic");
  }
  return message.author;
}

function delivery(message) {
  if (message.direction !== "outbound") return null;
  const failed = ["failed", "undelivered"].includes(message.status);
  return h("span", { class: `delivery ${failed ? "failed" : ""}`, testid: "delivery",
    title: message.error_reason || "" },
  label("delivery", message.status),
  failed && message.error_reason ? ` — ${message.error_reason}` : "");
}

/** Email subjects and call labels; chat messages carry their request's subject, not their own. */
function subjectOf(message) {
  const subject = (message.subject || "").trim();
  if (!subject || (message.channel !== "email" && message.direction === "outbound")) return null;
  return message.text.trim().startsWith(subject) ? null : subject;
}

/** The web page a site-chat visitor wrote from (its title, linked to it). */
function pageOf(message) {
  const page = message.context || {};
  if (!page.page_url && !page.page_title) return null;
  const href = safeUrl(page.page_url);
  const text = `🌐 ${page.page_title || page.page_url}`;
  return h("div", { class: "msg-page", testid: "message-page", title: page.page_url || "" },
    href ? h("a", { href, target: "_blank", rel: "noopener noreferrer" }, text) : text);
}

function bubble(message, currentId) {
  const call = isCall(message);
  const channel = call ? "voice" : message.channel;
  const elsewhere = message.request_id && message.request_id !== currentId;
  return h("article", {
    class: `msg ${message.direction === "inbound" ? "in" : "out"} ${message.kind}`,
    testid: "message", dataset: { messageId: message.id, direction: message.direction },
  },
  h("header", {},
    channelBadge(channel, "small"),
    h("strong", { class: "msg-who" }, who(message)),
    elsewhere && h("a", { href: `/requests/${message.request_id}`, class: "msg-req" },
      t("from_request", { id: message.request_id })),
    h("time", { datetime: message.created_at },
      formatTime(message.received_at || message.sent_at || message.created_at))),
  subjectOf(message) && h("div", { class: "msg-subject" }, subjectOf(message)),
  pageOf(message),
  h("div", { class: "msg-text", testid: "message-text" }, message.text),
  message.attachments.length > 0
    && h("div", { class: "attachments" }, message.attachments.map((a, i) => attachment(message, a, i))),
  delivery(message));
}

function note(event) {
  return h("article", { class: "msg note", testid: "note" },
    h("header", {}, h("span", { class: "tag note-tag" }, t("internal_note")),
      h("strong", { class: "msg-who" }, event.actor), h("time", {}, formatTime(event.at))),
    h("div", { class: "msg-text" }, event.data.text || ""));
}

/** Messages and notes in time order. */
export function conversation(detail) {
  const items = [
    ...detail.messages.map((m) => [m.created_at, bubble(m, detail.request.id)]),
    ...detail.events.filter((e) => e.kind === "note").map((e) => [e.at, note(e)]),
  ];
  items.sort((a, b) => Date.parse(a[0]) - Date.parse(b[0]));
  return h("div", { class: "conversation", testid: "conversation" }, items.map(([, el]) => el));
}

function eventDetail(event) {
  const d = event.data || {};
  const parts = [d.team, d.assignee && `@${d.assignee}`, d.category && label("category", d.category),
    d.to && label("category", d.to), d.reason, d.note, d.text, d.error_reason];
  return parts.filter(Boolean).join(" · ");
}

/** The request's history: every event, newest first. */
export function history(detail) {
  const events = detail.events.filter((e) => e.request_id === detail.request.id).reverse();
  return h("ol", { class: "history", testid: "history" }, events.map((e) => h("li", {},
    h("span", { class: "ev-kind" }, label("event", e.kind)),
    h("span", { class: "ev-meta" }, `${e.actor} · ${formatTime(e.at)}`),
    eventDetail(e) && h("span", { class: "ev-detail" }, eventDetail(e)))));
}
