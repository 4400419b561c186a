// Hand-drawn SVG charts (no library): stacked bars over time, horizontal bars, a gauge.
// Labels are text nodes, like everything else on the page.

import { h, s } from "./dom.js";

export const PALETTE = ["#1f6feb", "#07c160", "#e6162d", "#f22f46", "#8250df", "#bf8700",
  "#0a7ea4", "#d4a72c", "#57606a", "#cf4f8b"];

const TICKS = 4;

/** The axis top: four ticks of a round step (1, 2, 2.5 or 5 times a power of ten). */
function niceMax(value) {
  const raw = Math.max(value, 1) / TICKS;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].find((m) => m * power >= raw) * power;
  return Math.max(step, 1) * TICKS;
}

/** Bars per day, each stacked by series: days = ["2026-11-01", …], series = [{name, values}]. */
export function stackedBars(days, series, { height = 260, label = (x) => x } = {}) {
  const width = 1100;
  const pad = { left: 36, right: 8, top: 10, bottom: 26 };
  const totals = days.map((_, i) => series.reduce((sum, one) => sum + (one.values[i] || 0), 0));
  const top = niceMax(Math.max(0, ...totals));
  const plotH = height - pad.top - pad.bottom;
  const slot = (width - pad.left - pad.right) / Math.max(days.length, 1);
  const y = (v) => pad.top + plotH - (v / top) * plotH;
  const grid = [0, 1, 2, 3, 4].map((k) => k / TICKS).map((f) => [
    s("line", { x1: pad.left, x2: width - pad.right, y1: y(top * f), y2: y(top * f), stroke: "#eaeef2" }),
    s("text", { x: pad.left - 6, y: y(top * f) + 4, "text-anchor": "end" }, String(+(top * f).toFixed(1))),
  ]);
  const every = Math.ceil(days.length / 10);
  const bars = days.map((day, i) => {
    let base = 0;
    const x = pad.left + i * slot + slot * 0.15;
    const rects = series.map((one, k) => {
      const value = one.values[i] || 0;
      const rect = value ? s("rect", { x, width: slot * 0.7, y: y(base + value), rx: 2,
        height: Math.max(0, y(base) - y(base + value)), fill: one.color || PALETTE[k % PALETTE.length] },
      s("title", {}, `${label(day)} · ${one.name}: ${value}`)) : null;
      base += value;
      return rect;
    });
    const tick = i % every === 0 ? s("text", { x: x + slot * 0.35, y: height - 8, "text-anchor": "middle" },
      label(day)) : null;
    return s("g", { class: "bar", dataset: { day, total: totals[i] } }, rects, tick);
  });
  return s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart-svg" }, grid, bars);
}

/** Horizontal bars: entries = [[label, value], …], largest first. */
export function hbars(entries, { color = PALETTE[0] } = {}) {
  const width = 520;
  const labelWidth = 170;
  const row = 26;
  const max = Math.max(1, ...entries.map(([, v]) => v));
  const height = Math.max(row, entries.length * row);
  return s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "chart-svg" },
    entries.map(([name, value], i) => s("g", { class: "hbar" },
      s("text", { x: 0, y: i * row + 17 }, name),
      s("rect", { x: labelWidth, y: i * row + 5, height: 16, rx: 3, fill: Array.isArray(color)
        ? color[i % color.length] : color, width: Math.max(2, (value / max) * (width - labelWidth - 50)) },
      s("title", {}, `${name}: ${value}`)),
      s("text", { x: labelWidth + 6 + (value / max) * (width - labelWidth - 50), y: i * row + 17 },
        String(value)))));
}

/** A half-ring showing a share (0..1, or null for no data). */
export function gauge(share, caption) {
  // Colours are SVG attributes, not style attributes: the page's CSP allows no inline styles.
  const r = 60;
  const cx = 80;
  const cy = 74;
  const arc = (f) => {
    const angle = Math.PI * (1 - f);
    return `${cx + r * Math.cos(angle)} ${cy - r * Math.sin(angle)}`;
  };
  const color = share === null ? "#d0d7de" : share >= 0.9 ? "#1a7f37" : share >= 0.7 ? "#bf8700" : "#cf222e";
  const value = share === null ? 0 : Math.min(1, Math.max(0, share));
  return h("div", { class: "gauge" }, s("svg", { viewBox: "0 0 160 90", role: "img", class: "chart-svg" },
    s("path", { d: `M ${arc(0)} A ${r} ${r} 0 0 1 ${arc(1)}`, stroke: "#eaeef2", "stroke-width": 14, fill: "none" }),
    value > 0 && s("path", { d: `M ${arc(0)} A ${r} ${r} 0 0 1 ${arc(value)}`, stroke: color,
      "stroke-width": 14, fill: "none", "stroke-linecap": "round" }),
    s("text", { x: cx, y: cy - 6, "text-anchor": "middle", class: "gauge-value" },
      share === null ? "—" : `${Math.round(share * 100)}%`)),
  h("div", { class: "muted gauge-caption" }, caption));
}

/** A legend: one coloured square (SVG, for the same reason) and name per series. */
export function legend(series) {
  return h("div", { class: "legend" }, series.map((one) => h("span", {},
    s("svg", { viewBox: "0 0 10 10", width: 10, height: 10 }, s("rect", { width: 10, height: 10, rx: 2,
      fill: one.color })), ` ${one.name}`)));
}
