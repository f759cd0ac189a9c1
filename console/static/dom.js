// Small helpers shared by the console's views: building DOM nodes (never from
// HTML strings), calling the admin API with the cookie session and CSRF header,
// dialogs, toasts and labels.
import { t, formatDate } from './i18n.js';

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'value' && (tag === 'input' || tag === 'textarea' || tag === 'select')) el.value = v;
    else if (k === 'checked' || k === 'selected' || k === 'disabled' || k === 'hidden' || k === 'required' || k === 'multiple') el[k] = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let seq = 0;
export function uid(prefix) { seq += 1; return `${prefix}-${seq}`; }

// field builds a labelled input; returns [wrapper, input].
export function field(label, input, hint) {
  if (!input.id) input.id = uid('f');
  const parts = [h('label', { for: input.id }, label), input];
  if (hint) {
    const hid = uid('hint');
    input.setAttribute('aria-describedby', hid);
    parts.push(h('p', { class: 'hint', id: hid }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

export function checkbox(label, attrs) {
  const input = h('input', { type: 'checkbox', id: uid('c'), ...attrs });
  return [h('div', { class: 'check' }, input, h('label', { for: input.id }, label)), input];
}

export function select(options, attrs) {
  return h('select', attrs || {}, options.map(([v, l]) => h('option', { value: v }, l)));
}

export class APIError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || t('HTTP error {status}', { status: String(status) }));
    this.status = status;
    this.code = e.code || '';
    this.field = e.field || '';
    this.body = body;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return '';
}

export let onUnauthorized = () => {};
export function setOnUnauthorized(fn) { onUnauthorized = fn; }

// api calls /api/v1 with the session cookie; unsafe methods echo the CSRF
// cookie. JSON bodies are encoded; FormData is sent as is.
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = cookie('roster_csrf');
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  const res = await fetch('/api/v1' + path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store', signal: opts.signal });
  let data = null;
  const text = await res.text();
  if (text) { try { data = JSON.parse(text); } catch { data = { raw: text }; } }
  if (res.status === 401 && !opts.noRedirect) onUnauthorized();
  if (!res.ok && !(opts.accept || []).includes(res.status)) throw new APIError(res.status, data);
  return data === null ? {} : data;
}

export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, v);
  const s = u.toString();
  return s ? '?' + s : '';
}

let toastTimer;
export function toast(msg, kind) {
  const el = document.getElementById('toast');
  el.textContent = msg;
  el.className = 'toast show' + (kind ? ' ' + kind : '');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = 'toast'; }, 5000);
}

// dialog opens a modal <dialog> with a title and content; it is removed
// from the document when closed. Returns the element.
export function dialog(title, content, { id, wide } = {}) {
  const tid = uid('dlg');
  const d = h('dialog', { id, class: wide ? 'wide' : '', 'aria-labelledby': tid },
    h('div', { class: 'dialog-head' },
      h('h2', { id: tid }, title),
      h('button', { type: 'button', class: 'icon', 'aria-label': t('Close'), onclick: () => d.close() }, '×')),
    content);
  d.addEventListener('close', () => d.remove());
  document.body.appendChild(d);
  d.showModal();
  return d;
}

export function confirmDialog(title, message, okLabel) {
  return new Promise((resolve) => {
    let ok = false;
    const d = dialog(title, h('div', {},
      h('p', {}, message),
      h('div', { class: 'actions' },
        h('button', { type: 'button', onclick: () => d.close() }, t('Cancel')),
        h('button', { type: 'button', class: 'primary', id: 'confirm-ok', onclick: () => { ok = true; d.close(); } }, okLabel || t('Confirm')))));
    d.addEventListener('close', () => resolve(ok));
  });
}

export function errorBox(err) {
  return h('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err));
}

// showError puts an API error into a form: the message in the form's alert
// area and the named field marked invalid and focused.
export function showError(form, err) {
  form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
  const box = form.querySelector('.form-error');
  if (box) { box.textContent = err.message; box.hidden = false; }
  if (err.field) {
    const input = form.querySelector(`[name="${CSS.escape(err.field)}"]`);
    if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); return; }
  }
  if (box) box.focus();
}

export function formError() {
  return h('p', { class: 'error form-error', role: 'alert', tabindex: '-1', hidden: true });
}

// A message belongs to the action that caused it: the next action (a
// submit, or a click on any button) clears every form error, the fields
// marked invalid, the error toast and any message marked .action-message.
export function clearMessages(scope) {
  const root = scope || document;
  root.querySelectorAll('.form-error').forEach((el) => { el.hidden = true; el.textContent = ''; });
  root.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
  root.querySelectorAll('.action-message').forEach((el) => el.remove());
  if (!scope) {
    const el = document.getElementById('toast');
    if (el && el.classList.contains('bad')) el.className = 'toast';
  }
}
document.addEventListener('submit', () => clearMessages(), true);
document.addEventListener('click', (ev) => { if (ev.target instanceof Element && ev.target.closest('button')) clearMessages(); }, true);

// onSubmit runs a form's action once at a time: while its request is in
// flight the form is marked busy and its buttons are disabled, so it cannot
// be sent twice. fn shows its own errors (showError); an error it lets
// through is shown in the form.
export function onSubmit(form, fn) {
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (form.dataset.busy === 'true') return;
    form.dataset.busy = 'true';
    form.setAttribute('aria-busy', 'true');
    const buttons = [...form.querySelectorAll('button')].filter((b) => !b.disabled);
    buttons.forEach((b) => { b.disabled = true; });
    const submit = form.querySelector('button[type=submit]');
    if (submit) submit.classList.add('working');
    try {
      await fn(ev);
    } catch (e) {
      showError(form, e);
    } finally {
      delete form.dataset.busy;
      form.removeAttribute('aria-busy');
      buttons.forEach((b) => { if (b.isConnected) b.disabled = false; });
      if (submit) submit.classList.remove('working');
    }
  });
}

// busyButton runs fn with button disabled and marked working (one click at a time).
export async function busyButton(button, fn) {
  if (button.disabled) return;
  button.disabled = true;
  button.classList.add('working');
  try { await fn(); } finally { button.disabled = false; button.classList.remove('working'); }
}

// The label maps are getters so each label is looked up in the language in
// force when it is shown.
export const STATUS_LABELS = {
  get invited() { return t('Invited'); },
  get active() { return t('Active'); },
  get disabled() { return t('Disabled'); },
  get locked() { return t('Locked'); },
  get inactive() { return t('Inactive'); },
  get archived() { return t('Archived'); },
};
export const INVITE_LABELS = {
  none: '—',
  get pending() { return t('Pending'); },
  get expired() { return t('Expired'); },
  get mail_error() { return t('Mail error'); },
  get accepted() { return t('Accepted'); },
  get on_hold() { return t('On hold'); },
};
// INVITE_REASON_LABELS explain an invite status of none for a user who waits
// for an invitation, or of on_hold for a disabled or archived invitee (the
// user JSON's invite_reason).
export const INVITE_REASON_LABELS = {
  get no_email() { return t('No email: no invitation sent'); },
  get not_sent() { return t('Not sent yet'); },
  get user_disabled() { return t('On hold: user disabled'); },
  get user_archived() { return t('On hold: user archived'); },
};
export const ROLE_LABELS = {
  get owner() { return t('Owner'); },
  get admin() { return t('Admin'); },
  get user_manager() { return t('User manager'); },
  get developer() { return t('Developer'); },
  get member() { return t('Member'); },
};
// LANGUAGES are the languages a user or a mail may have; their names are
// written in each language itself.
const orgDefault = [''];
Object.defineProperty(orgDefault, 1, { get: () => t('Organisation default'), enumerable: true });
export const LANGUAGES = [orgDefault, ['en', 'English'], ['de', 'Deutsch'], ['fr', 'Français'], ['es', 'Español']];

export function badge(kind, value, labels) {
  return h('span', { class: `badge ${kind}-${value}` }, labels[value] || value);
}

// inviteBadge is a user's invite status, with the reason when none is sent
// (the same words for the list and the details).
export function inviteBadge(u) {
  if ((u.invite_status === 'none' || u.invite_status === 'on_hold') && u.invite_reason) {
    return h('span', { class: `badge invite-${u.invite_status} invite-${u.invite_reason}` }, INVITE_REASON_LABELS[u.invite_reason] || u.invite_reason);
  }
  const b = badge('invite', u.invite_status, INVITE_LABELS);
  if (u.invite_status === 'mail_error' && u.invite_mail_error) b.title = u.invite_mail_error;
  return b;
}

export function when(ts) {
  if (!ts) return '—';
  const d = new Date(ts);
  if (Number.isNaN(d.getTime()) || d.getFullYear() < 1971) return '—';
  return formatDate(d);
}

export async function copyText(text, input) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (input) { input.focus(); input.select(); try { return document.execCommand('copy'); } catch { return false; } }
    return false;
  }
}
