// The live feed: one EventSource per signed-in tab on /api/v1/events/stream. Views subscribe to
// request changes; on every (re)connection they are told to resync, since changes made while
// the connection was down were not sent.

const changeListeners = new Set();
const resyncListeners = new Set();
const statusListeners = new Set();
let source = null;
let connected = false;

function setConnected(value) {
  connected = value;
  for (const fn of statusListeners) fn(value);
}

export function startLive() {
  if (source) return;
  source = new EventSource("/api/v1/events/stream");
  source.addEventListener("ready", () => {
    setConnected(true);
    for (const fn of resyncListeners) fn();
  });
  source.addEventListener("request", (event) => {
    const change = JSON.parse(event.data);
    for (const fn of changeListeners) fn(change);
  });
  source.addEventListener("resync", () => {
    for (const fn of resyncListeners) fn();
  });
  source.addEventListener("signed_out", () => stopLive());
  source.addEventListener("error", () => setConnected(false));
}

export function stopLive() {
  if (source) source.close();
  source = null;
  setConnected(false);
}

export function isLive() {
  return connected;
}

function subscribe(set, fn) {
  set.add(fn);
  return () => set.delete(fn);
}

/** fn({event_id, kind, request}) for each request that changed; returns the unsubscribe. */
export const onRequestChange = (fn) => subscribe(changeListeners, fn);
export const onResync = (fn) => subscribe(resyncListeners, fn);
export const onLiveStatus = (fn) => subscribe(statusListeners, fn);
