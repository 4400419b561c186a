// The single-page app: who is signed in, the header and navigation, and which view shows.

import { api, setCsrf, whenSignedOut } from "./api.js";
import { setDeskClock } from "./clock.js";
import { clear, h, select } from "./dom.js";
import { label, lang, onLangChange, setLang, t } from "./i18n.js";
import { isLive, onLiveStatus, startLive, stopLive } from "./live.js";
import * as admin from "./views/admin.js";
import * as dashboard from "./views/dashboard.js";
import * as inbox from "./views/inbox.js";
import * as login from "./views/login.js";
import * as request from "./views/request.js";

const ROUTES = [
  [/^\/login$/, login, false],
  [/^\/inbox$/, inbox, true],
  [/^\/requests\/(\d+)$/, request, true],
  [/^\/dashboard$/, dashboard, true],
  [/^\/admin(?:\/([a-z-]+))?$/, admin, true],
];

const state = { me: null, cleanup: null };
const root = document.getElementById("app");

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  route();
}

export function signedIn(me) {
  state.me = me.agent;
  setCsrf(me.csrf_token);
  setDeskClock(me.desk);
  startLive();
}

function signOutLocally() {
  state.me = null;
  setCsrf(null);
  stopLive();
  if (location.pathname !== "/login") {
    navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`,
      { replace: true });
  }
}

async function signOut() {
  try {
    await api("/api/v1/auth/logout", { method: "POST" });
  } finally {
    signOutLocally();
  }
}

function navLink(path, text, testid) {
  const here = location.pathname === path || location.pathname.startsWith(`${path}/`);
  return h("a", { href: path, class: here ? "nav-link active" : "nav-link", testid }, text);
}

function availabilitySelect() {
  const options = ["online", "away", "offline"].map((v) => [v, t(v)]);
  return select({
    class: "availability", testid: "availability", "aria-label": t("availability"),
    onchange: async (event) => {
      const body = { availability: event.target.value };
      await api("/api/v1/agents/me/availability", { method: "PUT", body });
      state.me.availability = body.availability;
    },
  }, options, state.me.availability);
}

function header() {
  const me = state.me;
  const staff = me.role === "admin" || me.role === "supervisor";
  const liveDot = h("span", { class: "live-dot", testid: "live-status" });
  const paintLive = (on) => {
    liveDot.textContent = on ? t("live") : t("reconnecting");
    liveDot.classList.toggle("on", on);
  };
  paintLive(isLive());
  const stop = onLiveStatus(paintLive);
  return [h("header", { class: "topbar" },
    h("a", { href: "/inbox", class: "brand" }, h("span", { class: "logo" }, "◎"), "omnidesk"),
    h("nav", { class: "nav" },
      navLink("/inbox", t("inbox"), "nav-inbox"),
      staff && navLink("/dashboard", t("dashboard"), "nav-dashboard"),
      me.role === "admin" && navLink("/admin", t("admin"), "nav-admin")),
    h("div", { class: "topbar-right" },
      liveDot,
      availabilitySelect(),
      h("span", { class: "me", testid: "me" }, me.display_name || me.username,
        h("small", {}, label("role", me.role))),
      h("button", { class: "link", testid: "lang-switch",
        onclick: () => setLang(lang() === "zh" ? "en" : "zh") }, t("switch_lang")),
      h("button", { class: "link", testid: "logout", onclick: signOut }, t("logout")))), stop];
}

async function route() {
  if (state.cleanup) state.cleanup();
  state.cleanup = null;
  const path = location.pathname;
  const found = ROUTES.find(([pattern]) => pattern.test(path));
  if (!found) return navigate("/inbox", { replace: true });
  const [pattern, view, needsSignIn] = found;
  if (needsSignIn && !state.me) return signOutLocally();
  const params = path.match(pattern).slice(1);
  const main = h("main", { class: "main" });
  const cleanups = [];
  if (needsSignIn) {
    const [bar, stopBar] = header();
    cleanups.push(stopBar);
    clear(root, bar, main);
  } else clear(root, main);
  const query = new URLSearchParams(location.search);
  const ctx = { me: state.me, params, query, navigate, signedIn };
  try {
    const stop = await view.render(main, ctx);
    if (stop) cleanups.push(stop);
  } catch (error) {
    clear(main, h("div", { class: "error-box" }, t("error", { x: error.message })));
  }
  state.cleanup = () => cleanups.forEach((fn) => fn());
}

function interceptLinks(event) {
  const link = event.target.closest("a[href]");
  if (!link || link.target || event.ctrlKey || event.metaKey || event.shiftKey) return;
  const url = new URL(link.href, location.origin);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  if (link.hasAttribute("download")) return;
  event.preventDefault();
  if (url.pathname + url.search !== location.pathname + location.search) {
    navigate(url.pathname + url.search);
  }
}

async function boot() {
  document.addEventListener("click", interceptLinks);
  window.addEventListener("popstate", route);
  onLangChange(() => route());
  try {
    signedIn(await api("/api/v1/auth/me"));
  } catch {
    state.me = null;
  }
  whenSignedOut(signOutLocally);
  if (state.me && location.pathname === "/login") navigate("/inbox", { replace: true });
  else route();
}

boot();
