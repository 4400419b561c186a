// The reply box: reply on a channel of the customer's or write an internal note, with canned
// replies and knowledge-base suggestions to start from.

import { api, ApiError } from "../api.js";
import { clear, h, select, toast } from "../dom.js";
import { label, t } from "../i18n.js";

function errorText(error) {
  if (error instanceof ApiError) {
    const code = Object.values(error.errors)[0];
    const text = label("error", code);
    return text === code ? String(error.message) : text;
  }
  return t("network_error");
}

function optionLabel(option) {
  return `${label("channel", option.channel)} · ${option.address} (${option.connector})`;
}

function suggestionCard(item, use) {
  return h("li", { class: "suggestion", testid: "suggestion" },
    h("div", { class: "suggestion-head" },
      h("strong", {}, item.title),
      h("span", { class: "score" }, t("score", { n: Math.round(item.score * 100) })),
      h("button", { class: "small", testid: "use-suggestion", onclick: () => use(item.answer) },
        t("use"))),
    h("p", {}, item.answer));
}

async function loadSuggestions(requestId, box, templates, use) {
  try {
    const found = await api(`/api/v1/requests/${requestId}/suggestions`);
    for (const item of found.templates) templates.append(h("option", { value: item.text }, item.name));
    clear(box, found.knowledge.length
      ? h("ul", { class: "suggestions" }, found.knowledge.map((item) => suggestionCard(item, use)))
      : h("p", { class: "muted" }, t("no_suggestions")));
  } catch {
    clear(box);
  }
}

/** The composer for a request; `onSent()` runs after a reply or note was accepted. */
export function composer(detail, onSent) {
  const requestId = detail.request.id;
  let mode = "reply";
  const text = h("textarea", { rows: 5, testid: "reply-text", placeholder: t("write_reply") });
  const options = detail.reply_options;
  const via = options.length > 1 ? select({ testid: "reply-via", "aria-label": t("reply_via") },
    options.map((o) => [o.identity_id, optionLabel(o)]),
    (options.find((o) => o.default) || options[0]).identity_id) : null;
  const use = (answer) => {
    text.value = text.value.trim() ? `${text.value.trimEnd()}\n${answer}` : answer;
    text.focus();
  };
  const templates = select({ testid: "template-select", "aria-label": t("templates"),
    onchange: (e) => { if (e.target.value) use(e.target.value); e.target.value = ""; } },
  [["", t("templates")]], "");
  const suggestions = h("div", { class: "suggestion-box", testid: "suggestions" }, t("loading"));
  const send = h("button", { class: "primary", testid: "reply-send" }, t("send"));
  const tabs = h("div", { class: "tabs small" });

  function setMode(next) {
    mode = next;
    text.placeholder = t(mode === "reply" ? "write_reply" : "write_note");
    send.textContent = t(mode === "reply" ? "send" : "add_note");
    box.classList.toggle("noting", mode === "note");
    clear(tabs, ["reply", "note"].map((m) => h("button", {
      class: m === mode ? "tab active" : "tab", testid: `composer-${m}`, onclick: () => setMode(m),
    }, t(m))));
  }

  async function submit() {
    const body = { text: text.value };
    if (!body.text.trim()) return toast(label("error", "empty"), "error");
    if (mode === "reply" && via) body.channel_identity_id = Number(via.value);
    send.disabled = true;
    try {
      const path = `/api/v1/requests/${requestId}/${mode === "reply" ? "reply" : "notes"}`;
      await api(path, { method: "POST", body });
      text.value = "";
      toast(t(mode === "reply" ? "sent_reply" : "note_added"));
      onSent();
    } catch (error) {
      toast(errorText(error), "error");
    } finally {
      send.disabled = false;
    }
  }

  send.addEventListener("click", submit);
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) submit();
  });
  const box = h("section", { class: "composer", testid: "composer" },
    h("div", { class: "composer-head" }, tabs, via, templates),
    options.length === 0 && h("p", { class: "warning" }, t("no_reply_option")),
    text,
    h("div", { class: "composer-foot" }, send),
    h("h3", {}, t("suggestions")), suggestions);
  setMode("reply");
  loadSuggestions(requestId, suggestions, templates, use);
  return box;
}
