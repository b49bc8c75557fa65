// Building the page: elements from data, never HTML from strings, so
// text from messages and endpoints is shown, not run.

/**
 * h('a', {href: '#/x', class: 'c'}, 'text', child) builds an element.
 * Attributes starting with "on" are listeners; true sets a boolean
 * attribute, false/null/undefined leave it out.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** Replaces el's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** A time as the browser's locale writes it, with the ISO text as title. */
export function time(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return h('time', { datetime: iso, title: iso }, d.toLocaleString());
}

/** How long ago iso was, briefly ("3 min"). */
export function age(iso, now = Date.now()) {
  const s = Math.max(0, Math.round((now - new Date(iso).getTime()) / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86400) return `${Math.floor(s / 3600)} h`;
  return `${Math.floor(s / 86400)} d`;
}

/** A rate per second, briefly. */
export function rate(n) {
  if (n === 0) return '0';
  if (n < 0.1) return n.toFixed(2);
  if (n < 10) return n.toFixed(1);
  return Math.round(n).toString();
}

/** A badge for a state. */
export function badge(text, kind = text) {
  return h('span', { class: `badge badge-${kind}` }, text.replaceAll('_', ' '));
}

/** Tells the user something (polite live region). */
export function say(text) {
  const el = document.getElementById('status');
  el.textContent = '';
  // A new text node each time, so screen readers announce repeats.
  requestAnimationFrame(() => { el.textContent = text; });
}

/** Shows an error (assertive live region) until the next view or action. */
export function alertError(err) {
  const el = document.getElementById('alert');
  el.hidden = false;
  el.textContent = err instanceof Error ? err.message : String(err);
}

/** Clears the error. */
export function clearError() {
  const el = document.getElementById('alert');
  el.hidden = true;
  el.textContent = '';
}

/**
 * Asks to confirm an action in a modal dialog; resolves true when the
 * user chose confirmLabel. Focus starts on Cancel.
 */
export function confirmAction(title, text, confirmLabel, danger = true) {
  const dlg = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  const ok = document.getElementById('confirm-ok');
  ok.textContent = confirmLabel;
  ok.className = danger ? 'danger' : '';
  dlg.returnValue = 'cancel';
  const opener = document.activeElement;
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => {
      if (opener && opener.isConnected) opener.focus();
      resolve(dlg.returnValue === 'ok');
    }, { once: true });
    dlg.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

/** Shows a signing secret once in a modal dialog. */
export function showSecret(secret) {
  const dlg = document.getElementById('secret');
  const input = document.getElementById('secret-value');
  input.value = secret;
  const opener = document.activeElement;
  dlg.addEventListener('close', () => {
    input.value = '';
    if (opener && opener.isConnected) opener.focus();
  }, { once: true });
  dlg.showModal();
  input.select();
}

/** A table whose cells carry their column's name for the phone layout. */
export function table(caption, columns, rows, attrs = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'responsive', ...attrs },
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: columns.length, class: 'empty' }, 'Nothing here.')))));
}

/** A row: cells is a list of [column, content, attrs]. */
export function row(attrs, cells) {
  return h('tr', attrs, cells.map(([label, content, a]) => h('td', { 'data-label': label, ...(a || {}) }, content)));
}
