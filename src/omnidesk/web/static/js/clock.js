// The desk's clock: its time zone and "today" come from the server (GET /api/v1/auth/me), never
// from the browser's clock or zone. A browser in another zone, or past the desk's midnight, shows
// the desk's days; a time shown in the desk's zone says so when the browser's zone differs.

const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone;

const desk = { zone: null, skew: 0 };

/** Take the desk's clock from the server (`me.desk`): its zone, and how far our clock is off. */
export function setDeskClock(info) {
  if (!info) return;
  desk.zone = info.time_zone;
  const server = Date.parse(info.now);
  desk.skew = Number.isNaN(server) ? 0 : server - Date.now();
}

/** The desk's zone (null before the server has said). */
export function deskZone() {
  return desk.zone;
}

/** Milliseconds since the epoch by the server's clock. */
export function now() {
  return Date.now() + desk.skew;
}

/** The desk's date (YYYY-MM-DD) of a moment, in the desk's zone. */
export function deskDay(moment = now()) {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: desk.zone || undefined, year: "numeric", month: "2-digit", day: "2-digit",
  }).formatToParts(new Date(moment));
  const get = (type) => parts.find((p) => p.type === type).value;
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** Whether the browser's zone is not the desk's (times then name the desk's zone). */
export function elsewhere() {
  return Boolean(desk.zone) && desk.zone !== BROWSER_ZONE;
}

/** A moment in the desk's zone: "14:05" today, "8 Dec 14:05" another day, with the zone's name
 * ("GMT+8") when the browser is elsewhere. */
export function formatDeskTime(iso, locale) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const options = { hour: "2-digit", minute: "2-digit", timeZone: desk.zone || undefined };
  if (deskDay(date.getTime()) !== deskDay()) Object.assign(options, { month: "short", day: "numeric" });
  if (elsewhere()) options.timeZoneName = "short";
  return date.toLocaleString(locale, options);
}
