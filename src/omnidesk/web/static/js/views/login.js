// The sign-in page.

import { api, ApiError } from "../api.js";
import { clear, h } from "../dom.js";
import { lang, setLang, t } from "../i18n.js";

function problemText(error) {
  if (!(error instanceof ApiError)) return t("network_error");
  if (error.status === 429) {
    return t("too_many_attempts", { s: error.headers.get("Retry-After") || "60" });
  }
  return t("invalid_credentials");
}

export async function render(main, ctx) {
  const message = h("p", { class: "form-error", testid: "login-error", role: "alert", hidden: true });
  const username = h("input", { name: "username", autocomplete: "username", required: true,
    testid: "login-username", autofocus: true });
  const password = h("input", { name: "password", type: "password", required: true,
    autocomplete: "current-password", testid: "login-password" });
  const button = h("button", { type: "submit", class: "primary wide", testid: "login-submit" },
    t("signin"));

  async function submit(event) {
    event.preventDefault();
    message.hidden = true;
    button.disabled = true;
    button.textContent = t("signing_in");
    try {
      const body = { username: username.value.trim(), password: password.value };
      ctx.signedIn(await api("/api/v1/auth/login", { method: "POST", body }));
      const next = ctx.query.get("next");
      ctx.navigate(next && next.startsWith("/") && !next.startsWith("//") ? next : "/inbox",
        { replace: true });
    } catch (error) {
      message.textContent = problemText(error);
      message.hidden = false;
      password.select();
    } finally {
      button.disabled = false;
      button.textContent = t("signin");
    }
  }

  clear(main, h("div", { class: "login-page" },
    h("form", { class: "login-card", onsubmit: submit, testid: "login-form" },
      h("div", { class: "login-brand" }, h("span", { class: "logo big" }, "◎"),
        h("div", {}, h("strong", {}, "omnidesk"), h("small", {}, "TP官方客服 · TP Customer Service"))),
      h("h1", {}, t("signin_title")),
      message,
      h("label", {}, t("username"), username),
      h("label", {}, t("password"), password),
      button,
      h("button", { type: "button", class: "link", testid: "lang-switch",
        onclick: () => setLang(lang() === "zh" ? "en" : "zh") }, t("switch_lang")))));
  username.focus();
}
