// The organisation's audit log (#/audit): every history entry, newest first,
// filtered by actor, user, action and time, keyset paged, and the CSV of the
// current filter. The filter and page are in the URL (reload, back, links):
// cursor is the page's, newer the cursors of the pages an admin paged
// through to reach it (Newer goes back one; the newest page has none). The
// pages stay the ones the admin saw while entries are written; the URL
// grows by a cursor (~10 characters) a page.
import { h, clear, api, qs, field, select, formError, showError, onSubmit as submitted } from './dom.js';
import { t } from './i18n.js';
import { userSchema, historyAction } from './users.js';
import { whatChanged, actorName, shortWhen } from './userpage.js';

const FILTERS = ['actor', 'user', 'action', 'since', 'until'];

// The actions an admin filters by, named in the console's language.
function actionNames() {
  const other = {
    'app.create': t('App created'), 'app.rename': t('App renamed'), 'app.delete': t('App deleted'), 'app.assign': t('App assigned'),
    'app.unassign': t('App unassigned'), 'app.message': t('App users messaged'), 'app.oidc': t('App sign-in (OpenID Connect) set'),
    'group.create': t('Group created'), 'group.rename': t('Group renamed'), 'group.delete': t('Group deleted'),
    'group.add_member': t('Added to a group'), 'group.remove_member': t('Removed from a group'), 'group.message': t('Group messaged'),
    'org.settings': t('Organisation settings changed'), 'org.profile': t('Organisation profile changed'), 'org.password_policy': t('Password policy changed'),
    'org.metadata_template': t('Custom fields changed'), 'mail_template.set': t('Mail template saved'), 'mail_template.delete': t('Mail template reset'),
    'token.create': t('Token created'), 'token.revoke': t('Token revoked'),
  };
  const users = ['user.create', 'user.update', 'user.role', 'user.accept', 'user.disable', 'user.enable', 'user.archive', 'user.restore', 'user.delete', 'user.lock',
    'user.unlock', 'user.set_password', 'user.change_password', 'user.password_reset_requested', 'user.password_reset', 'user.login_failed',
    'invite.issue', 'invite.mail_error'];
  return [...users.map((a) => [a, historyAction(a)]), ...Object.entries(other)];
}

function viewFromHash(hash) {
  const i = hash.indexOf('?');
  const p = new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
  const v = { cursor: p.get('cursor') || '' };
  v.newer = v.cursor ? (p.get('newer') || '').split(',').filter(Boolean) : [];
  for (const k of FILTERS) v[k] = p.get(k) || '';
  return v;
}

function hashOf(v) {
  const p = new URLSearchParams();
  for (const k of [...FILTERS, 'cursor']) if (v[k]) p.set(k, v[k]);
  if (v.cursor && v.newer.length) p.set('newer', v.newer.join(','));
  const q = p.toString();
  return '#/audit' + (q ? '?' + q : '');
}

// The time inputs hold local time (datetime-local); the URL and the API
// RFC 3339 in UTC.
const toLocalInput = (iso) => {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
};
const fromLocalInput = (v) => (v ? new Date(v).toISOString() : '');

// userIdOf finds the user a filter names (exact username or email); an
// unknown name is passed as an id (history outlives deleted users).
const ids = new Map();
async function userIdOf(login) {
  if (!login) return '';
  if (ids.has(login)) return ids.get(login);
  const r = await api('GET', '/users' + qs({ q: login, page_size: 5 }));
  const l = login.toLowerCase();
  const u = (r.users || []).find((x) => x.username.toLowerCase() === l || (x.email || '').toLowerCase() === l);
  const id = u ? u.id : login;
  ids.set(login, id);
  return id;
}

// names remembers usernames by id for the Target column.
const names = new Map();
async function nameUsers(entries) {
  const want = [...new Set(entries.filter((e) => e.target_type === 'user' && !names.has(e.target_id)).map((e) => e.target_id))];
  await Promise.all(want.map(async (id) => {
    const u = await api('GET', `/users/${encodeURIComponent(id)}`).catch(() => null);
    let name = u && u.username;
    if (!name) {
      const e = entries.find((x) => x.target_id === id && (x.before || x.after));
      try { name = JSON.parse((e && (e.after || e.before)) || '{}').username; } catch { /* not a snapshot */ }
    }
    names.set(id, name || id);
  }));
}

export async function auditView(root, session) {
  const caps = (session.me && session.me.capabilities) || {};
  if (!caps.audit_log) {
    clear(root, h('h1', {}, t('Audit log')), h('p', { class: 'error', role: 'alert' }, t("Only owners and admins read the organisation's audit log.")));
    return;
  }
  const state = viewFromHash(location.hash);
  const schema = await userSchema().catch(() => []);
  const actor = h('input', { name: 'actor', id: 'audit-actor', value: state.actor, placeholder: t('a username, cli, a directory') });
  const user = h('input', { name: 'user', id: 'audit-user', value: state.user, placeholder: t('username or email') });
  const action = select([['', t('Any action')], ...actionNames().map(([a, n]) => [a, `${n} (${a})`])], { name: 'action', id: 'audit-action' });
  action.value = state.action;
  if (state.action && action.value !== state.action) { action.append(h('option', { value: state.action }, state.action)); action.value = state.action; }
  const since = h('input', { type: 'datetime-local', name: 'since', id: 'audit-since', value: toLocalInput(state.since) });
  const until = h('input', { type: 'datetime-local', name: 'until', id: 'audit-until', value: toLocalInput(state.until) });
  const form = h('form', { class: 'stack', id: 'audit-filters', role: 'search', 'aria-label': t('Filter the audit log') }, formError(),
    h('div', { class: 'filters' }, field(t('Actor'), actor), field(t('User'), user), field(t('Action'), action), field(t('From'), since), field(t('Until'), until)),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary' }, t('Filter')),
      h('button', { type: 'button', id: 'audit-reset', onclick: () => go({ actor: '', user: '', action: '', since: '', until: '', cursor: '', newer: [] }) }, t('Clear filters'))));
  const exportLink = h('a', { class: 'button', id: 'audit-export', href: '/api/v1/audit?format=csv', download: 'audit.csv' }, t('Export CSV'));
  const tableWrap = h('div', { class: 'table-wrap', 'aria-live': 'polite' });
  const pager = h('nav', { class: 'pager', 'aria-label': t('Pages') });
  // On a phone the filters fold away (open when one is set), so the log
  // starts on the first screen.
  const phone = window.matchMedia('(max-width: 720px)');
  const filtersBox = h('details', { class: 'filters-box', id: 'audit-filters-box', open: !phone.matches || FILTERS.some((k) => state[k]) }, h('summary', {}, t('Filters')), form);
  clear(root, h('div', { class: 'page-head' }, h('h1', {}, t('Audit log')), exportLink), filtersBox, tableWrap, pager);

  function go(change) {
    Object.assign(state, change);
    const hash = hashOf(state);
    if (hash !== location.hash) history.pushState(null, '', hash);
    const nav = document.querySelector('#nav a[data-view=audit]');
    if (nav) nav.setAttribute('href', hash);
    load();
  }
  submitted(form, async () => {
    go({ actor: actor.value.trim(), user: user.value.trim(), action: action.value, since: fromLocalInput(since.value), until: fromLocalInput(until.value), cursor: '', newer: [] });
  });

  let seq = 0;
  async function load() {
    const mine = ++seq;
    tableWrap.setAttribute('aria-busy', 'true');
    let page;
    let params;
    try {
      params = { actor: state.actor, user: await userIdOf(state.user), action: state.action, since: state.since, until: state.until };
      exportLink.href = '/api/v1/audit' + qs({ ...params, format: 'csv' });
      page = await api('GET', '/audit' + qs({ ...params, cursor: state.cursor }));
      await nameUsers(page.entries || []);
    } catch (e) {
      if (mine !== seq) return;
      tableWrap.removeAttribute('aria-busy');
      clear(tableWrap);
      clear(pager);
      showError(form, e);
      return;
    }
    if (mine !== seq) return;
    tableWrap.removeAttribute('aria-busy');
    const entries = page.entries || [];
    const target = (e) => {
      if (e.target_type === 'user') return h('a', { href: `#/users/${encodeURIComponent(e.target_id)}` }, names.get(e.target_id) || e.target_id);
      // A group, app or token by the name its snapshot recorded.
      let name = '';
      try { name = JSON.parse(e.after || e.before || '{}').name || ''; } catch { /* not a snapshot */ }
      const kind = { group: t('Group'), app: t('App'), token: t('Token'), org: t('Organisation') }[e.target_type] || e.target_type;
      return h('span', { title: e.target_id }, `${kind} ${name || e.target_id}`);
    };
    clear(tableWrap, h('table', { id: 'audit-table', class: 'cards' },
      h('caption', { class: 'sr-only' }, t('Audit log, newest first')),
      h('thead', {}, h('tr', {}, [t('When'), t('Actor'), t('Action'), t('Target'), t('What changed')].map((l) => h('th', { scope: 'col' }, l)))),
      h('tbody', {}, entries.length === 0
        ? h('tr', {}, h('td', { colspan: '5', class: 'empty' }, t('No entries match.')))
        : entries.map((e) => h('tr', { 'data-id': e.id, 'data-action': e.action, 'data-target': e.target_id },
          h('td', { 'data-label': t('When') }, h('time', { datetime: e.at }, shortWhen(e.at))),
          h('td', { 'data-label': t('Actor') }, actorName(e), e.token_id ? h('span', { class: 'muted' }, ` (${t('token {id}', { id: e.token_id })})`) : null),
          h('td', { 'data-label': t('Action'), title: e.action }, (actionNames().find(([a]) => a === e.action) || [e.action, historyAction(e.action)])[1]),
          h('td', { 'data-label': t('Target') }, target(e)),
          h('td', { 'data-label': t('What changed') }, whatChanged(e, schema).filter((w) => w !== historyAction(e.action)).join('; ')))))));
    clear(pager,
      h('button', { type: 'button', id: 'audit-newest', disabled: !state.cursor, onclick: () => go({ cursor: '', newer: [] }) }, t('Newest')),
      h('button', { type: 'button', id: 'audit-newer', disabled: !state.cursor, onclick: () => go({ cursor: state.newer.at(-1) || '', newer: state.newer.slice(0, -1) }) }, t('Newer')),
      h('button', { type: 'button', id: 'audit-older', disabled: !page.next,
        onclick: () => go({ cursor: page.next, newer: state.cursor ? [...state.newer, state.cursor] : [] }) }, t('Older')));
  }
  await load();
}
