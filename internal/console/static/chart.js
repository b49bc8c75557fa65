// A small inline SVG chart of rates over time: one line for what went
// well, one for failures. Drawn here from the numbers; no library.

import { rate } from './dom.js';

const ns = 'http://www.w3.org/2000/svg';

function svgEl(tag, attrs) {
  const el = document.createElementNS(ns, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/**
 * Charts points ([{at, okPerSecond, failedPerSecond}], oldest first).
 * what names the rate ("deliveries"), okName and failName the two lines.
 */
export function chart(points, { what, okName = 'ok', failName = 'failed', width = 160, height = 36 } = {}) {
  const last = points[points.length - 1] || { okPerSecond: 0, failedPerSecond: 0 };
  const minutes = points.length > 1
    ? Math.round((new Date(last.at) - new Date(points[0].at)) / 60000) || 1 : 0;
  const label = `${what} per second over the last ${minutes} minutes; now ${rate(last.okPerSecond)} ${okName}, ${rate(last.failedPerSecond)} ${failName}`;
  const svg = svgEl('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', class: 'chart', 'aria-label': label });
  const title = svgEl('title', {});
  title.textContent = label;
  svg.append(title);
  // Scaled to the highest rate shown (the label says the figures).
  const top = Math.max(1e-9, ...points.map((p) => Math.max(p.okPerSecond, p.failedPerSecond)));
  const pad = 2;
  const x = (i) => pad + (points.length > 1 ? (i * (width - 2 * pad)) / (points.length - 1) : 0);
  const y = (v) => height - pad - (v / top) * (height - 2 * pad);
  svg.append(svgEl('line', { x1: 0, x2: width, y1: height - pad, y2: height - pad, class: 'axis' }));
  for (const [key, cls] of [['okPerSecond', 'ok'], ['failedPerSecond', 'fail']]) {
    const pts = points.map((p, i) => `${x(i).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ');
    svg.append(svgEl('polyline', { points: pts, class: `line ${cls}` }));
  }
  return svg;
}

/** The chart's legend and current figures as text. */
export function legend(points, okName, failName) {
  const last = points[points.length - 1] || { okPerSecond: 0, failedPerSecond: 0 };
  const wrap = document.createElement('span');
  wrap.className = 'legend';
  const ok = document.createElement('span');
  ok.className = 'key ok';
  ok.textContent = `${rate(last.okPerSecond)}/s ${okName}`;
  const fail = document.createElement('span');
  fail.className = 'key fail';
  fail.textContent = `${rate(last.failedPerSecond)}/s ${failName}`;
  wrap.append(ok, ' ', fail);
  return wrap;
}
