// The users dashboard: counts, filters, search, sortable columns with
// show/hide remembered in localStorage, keyset paging, per-user actions,
// details, multi-select bulk actions and the add/invite dialog.
import {
  h, clear, api, qs, field, checkbox, select, toast, dialog, confirmDialog, formError, showError, badge, inviteBadge, when, copyText, uid,
  STATUS_LABELS, INVITE_LABELS, ROLE_LABELS, LANGUAGES, onSubmit as submitted,
} from './dom.js';
import { t, tn, formatNumber } from './i18n.js';

// The users list's columns, the Add and Edit forms and the details are built
// from the organisation's user schema (GET /api/v1/org/user-schema): a new
// attribute there needs no code here. A row's storage says where its value
// is: a top-level user field (column, derived), the attribute document
// (attributes.NAME) or the custom fields (metadata.NAME).
const META = 'metadata.';

export async function userSchema() {
  return (await api('GET', '/org/user-schema')).attributes || [];
}

// attrValue is the raw value of schema row a on user u.
export function attrValue(u, a) {
  if (a.storage === 'document') return (u.attributes || {})[a.name];
  if (a.storage === 'metadata') return (u.metadata || {})[a.name.slice(META.length)];
  return u[a.name];
}

// multiText is a multi-valued attribute as one line: each value (or a
// complex value's parts) with its type, and "primary".
function multiText(list, parts) {
  return (list || []).map((v) => {
    const text = v.value || (parts || []).map((p) => (v.parts || {})[p]).filter(Boolean).join(', ');
    const tags = [v.type, v.primary ? t('primary') : ''].filter(Boolean);
    return tags.length ? `${text} (${tags.join(', ')})` : text;
  }).join('; ');
}

// attrText is the value of schema row a on u, to show (a string or a node).
export function attrText(u, a) {
  const v = attrValue(u, a);
  switch (a.name) {
    case 'role': return ROLE_LABELS[u.role] || u.role;
    case 'status': return badge('status', u.status, STATUS_LABELS);
    case 'invite_status': return inviteBadge(u);
    default:
  }
  if (a.type === 'multi') return multiText(v, a.parts);
  if (a.type === 'boolean') return v === true || v === 'true' ? t('Yes') : (a.storage === 'metadata' && !v ? '' : t('No'));
  if (a.type === 'datetime' && a.storage !== 'metadata') return v ? when(v) : '';
  return v === undefined || v === null ? '' : String(v);
}

// attrLabel is the label of schema row a in the console's language: the
// built-in attributes' labels are translated here, an organisation's own
// custom fields keep the label it gave them.
export function attrLabel(a) {
  const labels = {
    username: t('Username'), email: t('Email'), first_name: t('First name'), middle_name: t('Middle name'), last_name: t('Last name'),
    honorific_prefix: t('Honorific prefix'), honorific_suffix: t('Honorific suffix'), formatted_name: t('Formatted name'),
    display_name: t('Display name'), nick_name: t('Nickname'), profile_url: t('Profile URL'), title: t('Title'), user_type: t('User type'),
    language: t('Language'), locale: t('Locale'), timezone: t('Time zone'), phone: t('Phone'), emails: t('Emails'),
    phone_numbers: t('Phone numbers'), addresses: t('Addresses'), employee_number: t('Employee number'), cost_center: t('Cost center'),
    organization: t('Organization'), division: t('Division'), department: t('Department'), manager_id: t('Manager'),
    roles: t('Directory roles'), external_id: t('External id'), role: t('Role'), can_create_apps: t('Can create apps'),
    status: t('Status'), invite_status: t('Invite status'), source: t('Source'), created_at: t('Created'), last_login_at: t('Last login'),
  };
  return (a.storage !== 'metadata' && labels[a.name]) || a.label;
}

// columnsFrom is the list's columns: the username, the full name, every
// single-valued schema row (shown by default when the schema says
// list_column), then groups and apps.
function columnsFrom(schema) {
  const rows = schema.filter((a) => a.name !== 'username' && a.type !== 'multi').map((a) => ({
    key: a.name, label: attrLabel(a), sort: a.sortable ? a.name : undefined, show: !!a.list_column, attr: a,
  }));
  const username = schema.find((a) => a.name === 'username') || { name: 'username', label: t('Username'), sortable: true };
  return [
    { key: 'username', label: attrLabel(username), sort: 'username', show: true, attr: username },
    { key: 'full_name', label: t('Full name'), sort: 'last_name', show: true },
    ...rows,
    // One column for every custom field, shown when the organisation has a
    // metadata template: an information tooltip on the users who have any.
    ...(schema.some((a) => a.storage === 'metadata') ? [{ key: 'metadata', label: t('Custom metadata'), show: true }] : []),
    { key: 'groups', label: t('Groups'), show: true },
    { key: 'apps', label: t('Apps'), show: false },
  ];
}
const COLS_KEY = 'roster.console.columns';

function loadColumns(columns) {
  try {
    const saved = JSON.parse(localStorage.getItem(COLS_KEY) || 'null');
    if (saved && typeof saved === 'object') return new Set(columns.filter((c) => (c.key in saved ? saved[c.key] : c.show)).map((c) => c.key));
  } catch { /* ignore a broken entry */ }
  return new Set(columns.filter((c) => c.show).map((c) => c.key));
}

function saveColumns(columns, set) {
  const o = {};
  for (const c of columns) o[c.key] = set.has(c.key);
  localStorage.setItem(COLS_KEY, JSON.stringify(o));
}

// The list's view (filters, search, sort, page) lives in the URL's hash
// query, e.g. #/users?status=active&q=ada&sort=-created_at&page=2, so a
// reload, back and forward and a shared link keep it. The page is keyset
// paged: "after" is the cursor of the page shown, "page" its number; the
// cursors of the earlier pages are found again when Previous needs them.
const FILTERS = ['q', 'role', 'status', 'invite_status', 'group', 'app'];
const DEFAULT_SORT = 'last_name';
const SIZES = [10, 25, 50, 100];
const MAX_BULK = 1000; // the server's bound for one bulk request

export function viewFromHash(hash) {
  const i = hash.indexOf('?');
  const p = new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
  const v = { sort: DEFAULT_SORT, order: 'asc', page_size: 25, token: p.get('after') || '', page: 1 };
  for (const k of FILTERS) v[k] = p.get(k) || '';
  const sort = p.get('sort') || '';
  if (sort) { v.order = sort.startsWith('-') ? 'desc' : 'asc'; v.sort = sort.replace(/^-/, '') || DEFAULT_SORT; }
  const size = Number(p.get('size'));
  if (SIZES.includes(size)) v.page_size = size;
  const page = Number(p.get('page'));
  if (v.token && Number.isInteger(page) && page > 1) v.page = page;
  if (!v.token) v.page = 1;
  return v;
}

function hashOf(v) {
  const p = new URLSearchParams();
  for (const k of FILTERS) if (v[k]) p.set(k, v[k]);
  if (v.sort !== DEFAULT_SORT || v.order !== 'asc') p.set('sort', (v.order === 'desc' ? '-' : '') + v.sort);
  if (v.page_size !== 25) p.set('size', String(v.page_size));
  if (v.token) { p.set('page', String(v.page)); p.set('after', v.token); }
  const q = p.toString();
  return '#/users' + (q ? '?' + q : '');
}

// The selection survives paging and switching views within one page load;
// allMatching is "every user the filter matches" (its filter and count).
const selection = { selected: new Map(), allMatching: null }; // id → username

export async function usersView(root, session) {
  const me = session.me;
  const caps = me.capabilities || {};
  const isAdmin = !!caps.ldap;
  const [groups, apps, schema, ldap] = await Promise.all([
    api('GET', '/groups').then((r) => r.groups || []).catch(() => []),
    api('GET', '/apps').then((r) => r.apps || []).catch(() => []),
    userSchema().catch(() => []),
    isAdmin ? api('GET', '/ldap/sources').then((r) => r.sources || []).catch(() => []) : Promise.resolve([]),
  ]);
  const state = Object.assign(viewFromHash(location.hash), { prev: [], selected: selection.selected });
  const COLUMNS = columnsFrom(schema);
  const cols = loadColumns(COLUMNS);

  const counts = h('ul', { class: 'counts', id: 'counts', 'aria-label': t('Users by status and invite status') });
  const tableWrap = h('div', { class: 'table-wrap' });
  const pager = h('nav', { class: 'pager', 'aria-label': t('Pages') });
  const bulkBar = h('div', { class: 'bulkbar', id: 'bulkbar', role: 'region', 'aria-label': t('Actions on the selected users'), hidden: true });
  const live = h('p', { class: 'sr-only', 'aria-live': 'polite', id: 'users-live' });
  const progress = h('div', { class: 'progress', id: 'users-loading', role: 'progressbar', 'aria-label': t('Loading users'), hidden: true });

  // ---- toolbar: search, filters, columns, add
  const search = h('input', { type: 'search', id: 'search', name: 'q', value: state.q, placeholder: t('Name, phone, exact username or email, or field:value') });
  const searchForm = h('form', { role: 'search', class: 'search', id: 'search-form' },
    h('label', { for: 'search', class: 'sr-only' }, t('Search users')), search, h('button', { type: 'submit' }, t('Search')));
  let debounce;
  search.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(() => apply({ q: search.value.trim() }), 400); });
  searchForm.addEventListener('submit', (ev) => { ev.preventDefault(); clearTimeout(debounce); apply({ q: search.value.trim() }); });

  const filter = (name, label, any, options) => {
    const s = select([['', any], ...options], { id: `filter-${name}`, name, value: state[name] });
    s.value = state[name];
    s.addEventListener('change', () => apply({ [name]: s.value }));
    return field(label, s);
  };
  const filters = h('div', { class: 'filters', id: 'filters' },
    filter('role', t('Role'), t('Any role'), Object.entries(ROLE_LABELS)),
    filter('status', t('Status'), t('Any status'), Object.entries(STATUS_LABELS)),
    filter('invite_status', t('Invite status'), t('Any invite status'), Object.entries(INVITE_LABELS).map(([k, v]) => [k, k === 'none' ? t('None (not sent)') : v])),
    filter('group', t('Group'), t('Any group'), groups.map((g) => [g.name, g.name])),
    filter('app', t('App'), t('Any app'), apps.map((a) => [a.name, a.name])),
  );

  const colMenu = h('fieldset', { class: 'columns-menu', id: 'columns-menu', hidden: true }, h('legend', {}, t('Columns to show')),
    COLUMNS.map((c) => {
      const [wrap, input] = checkbox(c.label, { checked: cols.has(c.key), name: `col-${c.key}` });
      input.addEventListener('change', () => { if (input.checked) cols.add(c.key); else cols.delete(c.key); saveColumns(COLUMNS, cols); render(); });
      return wrap;
    }));
  const colButton = h('button', { type: 'button', id: 'columns-button', 'aria-expanded': 'false', 'aria-controls': 'columns-menu' }, t('Columns'));
  colButton.addEventListener('click', () => {
    colMenu.hidden = !colMenu.hidden;
    colButton.setAttribute('aria-expanded', String(!colMenu.hidden));
  });
  colMenu.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') { colMenu.hidden = true; colButton.setAttribute('aria-expanded', 'false'); colButton.focus(); }
  });
  // On a phone the filters fold away so the list starts on the first screen;
  // the header's sort and select-all (hidden there) have their own controls.
  const phone = window.matchMedia('(max-width: 720px)');
  const filtersBox = h('details', { class: 'filters-box', id: 'filters-box', open: !phone.matches }, h('summary', {}, t('Filters')), filters);
  phone.addEventListener('change', () => { if (!phone.matches) filtersBox.open = true; });
  const phoneTools = h('div', { class: 'phone-tools', id: 'phone-tools' });
  const addButton = h('button', { type: 'button', class: 'primary', id: 'add-user', onclick: () => addDialog({ schema, ldap, me, reload }) },
    h('span', { 'aria-hidden': 'true' }, '+ '), t('Add user'));

  // The CSV of every user the current filter matches (streamed by the server).
  const exportLink = h('a', { class: 'button', id: 'export-csv', href: '/api/v1/users/export', download: 'users.csv' }, t('Export CSV'));

  clear(root,
    h('div', { class: 'page-head' }, h('h1', {}, t('Users')), addButton),
    counts,
    h('div', { class: 'toolbar' }, searchForm, exportLink, h('div', { class: 'col-toggle' }, colButton, colMenu)),
    filtersBox, live, phoneTools, progress, tableWrap, pager, bulkBar);

  let page = { users: [], total: 0, next_page_token: '' };
  let loadSeq = 0;
  let countSeq = 0;
  let inFlight = null;
  let progressTimer;

  // The filter as the server reads it (list, export and bulk).
  const filterOf = () => Object.fromEntries(FILTERS.map((k) => [k, state[k]]));
  const sameFilter = (f) => FILTERS.every((k) => (f[k] || '') === (state[k] || ''));

  // go moves to another view of the list: a new history entry (back returns
  // to the one before), or the same entry replaced.
  function go(replace) {
    const hash = hashOf(state);
    if (hash !== location.hash) history[replace ? 'replaceState' : 'pushState'](null, '', hash);
    const nav = document.querySelector('#nav a[data-view=users]');
    if (nav) nav.setAttribute('href', hash);
    load();
  }

  function apply(change) {
    Object.assign(state, change);
    state.token = '';
    state.page = 1;
    state.prev = [];
    if (selection.allMatching && !sameFilter(selection.allMatching.filter)) selection.allMatching = null;
    go();
  }

  function sortBy(sort, order) { apply({ sort, order }); }

  // prevToken finds the cursor of the page before this one: remembered when
  // Next led here, else walked again from the first page (a reload or a link).
  async function prevToken() {
    if (state.prev.length === state.page - 1) return state.prev.pop();
    const tokens = [''];
    let tok = '';
    while (tokens.length < state.page - 1) {
      const r = await api('GET', '/users' + qs({ ...filterOf(), sort: state.sort, order: state.order, page_size: state.page_size, page_token: tok }));
      if (!r.next_page_token) break;
      tok = r.next_page_token;
      tokens.push(tok);
    }
    state.prev = tokens.slice(0, -1);
    return tokens[tokens.length - 1];
  }

  // After an action the rows stay until the fresh answer replaces them; a
  // new filter, sort or page clears them at once.
  async function reload() { await Promise.all([load(true), loadCounts()]); }

  async function load(keepRows) {
    const params = { ...filterOf(), sort: state.sort, order: state.order, page_size: state.page_size, page_token: state.token };
    exportLink.href = '/api/v1/users/export' + qs({ ...filterOf(), sort: state.sort, order: state.order });
    const mine = ++loadSeq; // answers can arrive out of order: only the latest renders
    if (inFlight) inFlight.abort(); // nor is an answer for an older filter waited for
    const ctl = new AbortController();
    inFlight = ctl;
    tableWrap.setAttribute('aria-busy', 'true');
    // The bar shows only when the answer is slow to come (no flicker, and
    // no animation to draw on a fast load).
    clearTimeout(progressTimer);
    progressTimer = setTimeout(() => { if (mine === loadSeq && inFlight === ctl) progress.hidden = false; }, 150);
    const tbody = tableWrap.querySelector('#users-table tbody');
    if (!keepRows && tbody) {
      // Rows of the previous filter never stand under the new one.
      clear(tbody, h('tr', { class: 'loading-row' }, h('td', { colspan: '99', class: 'empty' }, t('Loading…'))));
      const info = document.getElementById('page-info');
      if (info) info.textContent = t('Loading…');
    }
    try {
      const got = await api('GET', '/users' + qs(params), undefined, { signal: ctl.signal });
      if (mine !== loadSeq) return;
      page = got;
      render();
      live.textContent = tn('{count} user found.', '{count} users found.', page.total);
    } catch (e) {
      if (mine !== loadSeq || e.name === 'AbortError') return;
      clear(tableWrap, h('p', { class: 'error', role: 'alert', id: 'users-error' }, e.message));
      clear(pager);
    } finally {
      if (mine === loadSeq) {
        tableWrap.removeAttribute('aria-busy');
        clearTimeout(progressTimer);
        progress.hidden = true;
        inFlight = null;
      }
    }
  }

  async function loadCounts() {
    const statuses = Object.keys(STATUS_LABELS);
    const invites = ['pending', 'expired', 'mail_error', 'on_hold'];
    const mine = ++countSeq;
    const c = await api('GET', '/users/counts').catch(() => ({ status: {}, invite_status: {} }));
    if (mine !== countSeq) return;
    const all = c.total ?? '?';
    const rest = [...statuses.map((s) => c.status[s] ?? '?'), ...invites.map((s) => c.invite_status[s] ?? '?')];
    const item = (label, n, cls, change) => h('li', { class: cls },
      h('button', { type: 'button', class: 'count', 'data-count': cls, onclick: () => { syncFilters(change); apply(change); } },
        h('span', { class: 'n' }, typeof n === 'number' ? formatNumber(n) : String(n)), ' ', label));
    const inviteCount = { pending: t('Invite pending'), expired: t('Invite expired'), mail_error: t('Invite mail error'), on_hold: t('Invite on hold') };
    clear(counts,
      item(t('All users'), all, 'count-all', { status: '', invite_status: '' }),
      statuses.map((s, i) => item(STATUS_LABELS[s], rest[i], `count-${s}`, { status: s, invite_status: '' })),
      invites.map((s, i) => item(inviteCount[s], rest[statuses.length + i], `count-invite-${s}`, { invite_status: s, status: '' })));
  }

  function syncFilters(change) {
    for (const [k, v] of Object.entries(change)) {
      const s = document.getElementById(`filter-${k}`);
      if (s) s.value = v;
    }
  }

  function cell(u, c) {
    switch (c.key) {
      case 'username':
        return h('a', { class: 'user-link', href: `#/users/${encodeURIComponent(u.id)}` }, u.username);
      case 'metadata': return metadataTip(u, schema);
      case 'groups': return (u.groups || []).join(', ');
      case 'apps': return (u.apps || []).map((a) => a.app_name).filter((v, i, all) => all.indexOf(v) === i).join(', ');
      default: return c.attr ? attrText(u, c.attr) : (u[c.key] || '');
    }
  }

  function render() {
    const shown = COLUMNS.filter((c) => cols.has(c.key));
    const allBox = h('input', { type: 'checkbox', id: 'select-all', 'aria-label': t('Select every user on this page') });
    allBox.checked = page.users.length > 0 && page.users.every((u) => state.selected.has(u.id));
    allBox.addEventListener('change', () => {
      if (!allBox.checked) selection.allMatching = null;
      for (const u of page.users) { if (allBox.checked) state.selected.set(u.id, u.username); else state.selected.delete(u.id); }
      render();
    });
    const head = h('tr', {}, h('th', { scope: 'col', class: 'sel' }, allBox),
      shown.map((c) => {
        if (!c.sort) return h('th', { scope: 'col' }, c.label);
        const active = state.sort === c.sort;
        const dir = active ? (state.order === 'asc' ? 'ascending' : 'descending') : 'none';
        return h('th', { scope: 'col', 'aria-sort': dir },
          h('button', { type: 'button', class: 'sort', 'data-sort': c.sort, 'data-col': c.key,
            onclick: () => (state.sort === c.sort ? sortBy(c.sort, state.order === 'asc' ? 'desc' : 'asc') : sortBy(c.sort, 'asc')) },
          c.label, h('span', { class: 'arrow', 'aria-hidden': 'true' }, active ? (state.order === 'asc' ? ' ▲' : ' ▼') : '')));
      }),
      h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('Actions'))));
    const body = page.users.length === 0
      ? [h('tr', {}, h('td', { colspan: shown.length + 2, class: 'empty' }, t('No users match.')))]
      : page.users.map((u) => {
        const box = h('input', { type: 'checkbox', class: 'row-select', 'aria-label': t('Select {username}', { username: u.username }), 'data-id': u.id, checked: state.selected.has(u.id) });
        box.addEventListener('change', () => { selection.allMatching = null; if (box.checked) state.selected.set(u.id, u.username); else state.selected.delete(u.id); renderBulk(); allBox.checked = page.users.every((x) => state.selected.has(x.id)); });
        return h('tr', { 'data-username': u.username, 'data-id': u.id },
          h('td', { class: 'sel' }, box),
          shown.map((c) => h('td', { 'data-col': c.key, 'data-label': c.label }, cell(u, c))),
          h('td', { class: 'row-actions' }, actionsMenu(u, me, reload)));
      });
    renderPhoneTools(shown);
    clear(tableWrap, h('table', { class: 'users', id: 'users-table' },
      h('caption', { class: 'sr-only' }, t('Users; column headers sort')),
      h('thead', {}, head), h('tbody', {}, body)));
    const first = (state.page - 1) * state.page_size;
    const size = select([['10', '10'], ['25', '25'], ['50', '50'], ['100', '100']], { id: 'page-size' });
    size.value = String(state.page_size);
    size.addEventListener('change', () => apply({ page_size: Number(size.value) }));
    clear(pager,
      h('span', { id: 'page-info' }, page.total === 0 ? t('0 users') : t('{first}–{last} of {total}', { first: first + 1, last: first + page.users.length, total: page.total })),
      h('button', { type: 'button', id: 'prev-page', disabled: state.page <= 1, onclick: async (ev) => {
        ev.target.disabled = true;
        try { state.token = await prevToken(); } catch (e) { toast(e.message, 'bad'); return; }
        state.page = state.token ? state.page - 1 : 1;
        go();
      } }, t('Previous')),
      h('button', { type: 'button', id: 'next-page', disabled: !page.next_page_token, onclick: () => { state.prev.push(state.token); state.token = page.next_page_token; state.page += 1; go(); } }, t('Next')),
      field(t('Per page'), size));
    renderBulk();
  }

  function renderPhoneTools(shown) {
    const all = h('input', { type: 'checkbox', id: 'select-all-phone' });
    all.checked = page.users.length > 0 && page.users.every((u) => state.selected.has(u.id));
    all.addEventListener('change', () => {
      for (const u of page.users) { if (all.checked) state.selected.set(u.id, u.username); else state.selected.delete(u.id); }
      render();
    });
    const sorts = shown.filter((c) => c.sort).filter((c, i, l) => l.findIndex((x) => x.sort === c.sort) === i);
    const sortSel = select(sorts.map((c) => [c.sort, c.label]), { id: 'sort-select', name: 'sort' });
    sortSel.value = state.sort;
    sortSel.addEventListener('change', () => sortBy(sortSel.value, 'asc'));
    const order = h('button', { type: 'button', id: 'sort-order', 'aria-label': state.order === 'asc' ? t('Ascending; sort descending') : t('Descending; sort ascending'),
      onclick: () => sortBy(state.sort, state.order === 'asc' ? 'desc' : 'asc') }, state.order === 'asc' ? '▲' : '▼');
    clear(phoneTools,
      h('div', { class: 'check' }, all, h('label', { for: 'select-all-phone' }, t('Select all on this page'))),
      field(t('Sort by'), sortSel), order);
  }

  function renderBulk() {
    const all = selection.allMatching && sameFilter(selection.allMatching.filter) ? selection.allMatching : null;
    const n = all ? all.total : state.selected.size;
    bulkBar.hidden = n === 0;
    if (n === 0) { clear(bulkBar); return; }
    // Once the whole page is selected and more users match, offer them all
    // (the server runs the action on the filter, at most MAX_BULK at once).
    const pageAll = page.users.length > 0 && page.users.every((u) => state.selected.has(u.id));
    let offer = null;
    if (all) {
      offer = h('button', { type: 'button', class: 'link', id: 'select-page-only', onclick: () => { selection.allMatching = null; renderBulk(); } }, t('Select only this page'));
    } else if (pageAll && page.total > page.users.length) {
      offer = page.total <= MAX_BULK
        ? h('button', { type: 'button', class: 'link', id: 'select-all-matching',
          onclick: () => { selection.allMatching = { filter: filterOf(), total: page.total }; renderBulk(); } }, t('Select all {count} matching', { count: formatNumber(page.total) }))
        : h('span', { class: 'muted', id: 'select-all-matching-limit' }, t('{count} match; narrow the filter to act on at most {max} at once.', { count: formatNumber(page.total), max: formatNumber(MAX_BULK) }));
    }
    // Only the bulk actions the signed-in user may take (capabilities in /me).
    const run = (action, label, may) => (may ? h('button', { type: 'button', 'data-bulk': action, onclick: () => bulk(action, label) }, label) : null);
    clear(bulkBar, h('span', { id: 'selected-count' }, all ? t('All {count} matching selected', { count: formatNumber(n) }) : t('{count} selected', { count: formatNumber(n) })), offer,
      run('set_admin', t('Set as admin'), caps.set_admin), run('deactivate', t('De-activate'), caps.disable_users), run('archive', t('Archive'), caps.archive_users),
      h('button', { type: 'button', class: 'link', id: 'clear-selection', onclick: () => { state.selected.clear(); selection.allMatching = null; render(); } }, t('Clear selection')));
  }

  async function bulk(action, label) {
    const all = selection.allMatching && sameFilter(selection.allMatching.filter) ? selection.allMatching : null;
    const ids = [...state.selected.keys()];
    const names = new Map(state.selected);
    const what = all
      ? t('{action}: all {count} users matching the filter.', { action: label, count: formatNumber(all.total) })
      : tn('{action}: {count} user ({names}).', '{action}: {count} users ({names}).', ids.length, { action: label, names: [...names.values()].join(', ') });
    if (!(await confirmDialog(t('{action}?', { action: label }), what, label))) return;
    let res;
    try {
      res = await api('POST', '/users/bulk', all ? { action, filter: all.filter, expected_total: all.total } : { action, ids });
    } catch (e) {
      if (e.code === 'changed') selection.allMatching = null;
      toast(e.message, 'bad');
      if (e.code === 'changed') await reload();
      return;
    }
    state.selected.clear();
    selection.allMatching = null;
    dialog(t('{action}: {done} done, {failed} failed', { action: label, done: res.succeeded, failed: res.failed }), h('ul', { class: 'outcomes', id: 'bulk-results' },
      (res.results || []).map((r) => h('li', { class: r.ok ? 'ok' : 'bad', 'data-id': r.id },
        h('strong', {}, names.get(r.id) || (r.user && r.user.username) || r.id), ': ',
        r.ok ? t('done ({status}, {role})', { status: STATUS_LABELS[r.user.status] || r.user.status, role: ROLE_LABELS[r.user.role] || r.user.role }) : ((r.error && r.error.message) || t('failed'))))), { id: 'bulk-dialog' });
    await reload();
  }

  // Back and forward between views of the list re-render it from the URL
  // (the router runs the view again on hashchange).
  await reload();
}

// metadataTip is the custom metadata column's cell: an information button
// whose tooltip (on hover and on focus) lists the user's custom fields; empty
// for a user with none.
function metadataTip(u, schema) {
  const rows = schema.filter((a) => a.storage === 'metadata').map((a) => [attrLabel(a), attrText(u, a)]).filter(([, v]) => v !== '' && v !== undefined);
  if (!rows.length) return '';
  const id = uid('tip');
  // In the top layer (a popover), so that no table overflow clips it.
  const tip = h('span', { role: 'tooltip', id, class: 'tip-text', popover: 'manual' }, rows.map(([label, v]) => h('span', { class: 'tip-row' }, h('strong', {}, label), ': ', v)));
  const btn = h('button', { type: 'button', class: 'icon info', 'aria-label': t('Custom metadata of {username}', { username: u.username }), 'aria-describedby': id, 'data-metadata': u.username }, 'ⓘ');
  const show = () => { if (!tip.matches(':popover-open')) tip.showPopover(); placeMenu(tip, btn); };
  const hide = () => { if (tip.matches(':popover-open')) tip.hidePopover(); };
  btn.addEventListener('mouseenter', show);
  btn.addEventListener('focus', show);
  btn.addEventListener('click', show);
  btn.addEventListener('mouseleave', hide);
  btn.addEventListener('blur', hide);
  btn.addEventListener('keydown', (ev) => { if (ev.key === 'Escape') hide(); });
  return h('span', { class: 'tip' }, btn, tip);
}

// ---- per-user actions

// The ⋯ menu offers what the server says the signed-in user may do to this
// user now (the user's actions, computed by the same rules that refuse);
// the console only names them.
const ACTION_ITEMS = {
  resend_invite: (u) => ['resend-invite', u.invite_reason ? t('Send invite') : t('Resend invite')],
  invite_link: () => ['resend-link', t('Copy a new invite link')],
  delete: () => ['delete', t('Delete')],
  disable: () => ['disable', t('Disable')],
  enable: () => ['enable', t('Enable')],
  unlock: () => ['unlock', t('Unlock')],
  set_password: () => ['set-password', t('Reassign password')],
  send_password_reset: () => ['send-password-reset', t('Send password reset')],
  archive: () => ['archive', t('Archive')],
  restore: () => ['restore', t('Restore')],
  edit: () => ['edit', t('Edit')],
  change_role: () => ['role', t('Change role')],
};

export function actionsFor(u) {
  const acts = (u.actions || []).filter((a) => ACTION_ITEMS[a]).map((a) => ACTION_ITEMS[a](u));
  acts.push(['details', t('Details')]);
  return acts;
}

// placeMenu puts an open menu (a popover, in the top layer above the table
// and any overflow) next to its button, kept inside the viewport: below the
// button if it fits, else above, else as high as the window allows, with its
// own scrolling when even that is too short.
function placeMenu(menu, btn) {
  const gap = 4, vw = document.documentElement.clientWidth, vh = window.innerHeight;
  menu.style.maxHeight = `${vh - 2 * gap}px`;
  menu.style.left = '0px';
  menu.style.top = '0px';
  const b = btn.getBoundingClientRect();
  const m = menu.getBoundingClientRect();
  let top = b.bottom + gap;
  if (top + m.height > vh - gap) top = b.top - gap - m.height;
  if (top < gap) top = Math.max(gap, vh - gap - m.height);
  let left = b.right - m.width;
  left = Math.min(Math.max(gap, left), vw - gap - m.width);
  menu.style.left = `${Math.max(gap, left)}px`;
  menu.style.top = `${top}px`;
}

function actionsMenu(u, me, reload) {
  const menuId = uid('menu');
  const btn = h('button', { type: 'button', class: 'icon menu-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': menuId,
    'aria-label': t('Actions for {username}', { username: u.username }), 'data-actions': u.username }, '⋯');
  const menu = h('ul', { role: 'menu', id: menuId, class: 'menu', popover: 'manual', 'aria-label': t('Actions for {username}', { username: u.username }) },
    actionsFor(u, me).map(([act, label]) => h('li', { role: 'none' },
      h('button', { type: 'button', role: 'menuitem', tabindex: '-1', 'data-action': act, onclick: () => { close(); runAction(u, act, reload, me); } }, label))));
  const items = () => [...menu.querySelectorAll('[role=menuitem]')];
  const isOpen = () => menu.matches(':popover-open');
  const reposition = () => { if (isOpen()) placeMenu(menu, btn); };
  function close() {
    if (isOpen()) menu.hidePopover();
    btn.setAttribute('aria-expanded', 'false');
    document.removeEventListener('click', outside, true);
    window.removeEventListener('resize', reposition);
    window.removeEventListener('scroll', reposition, true);
  }
  menu.close = close;
  function outside(ev) { if (!menu.contains(ev.target) && ev.target !== btn) close(); }
  btn.addEventListener('click', () => {
    if (isOpen()) { close(); return; }
    document.querySelectorAll('.menu:popover-open').forEach((m) => (m.close ? m.close() : m.hidePopover()));
    menu.showPopover();
    placeMenu(menu, btn);
    btn.setAttribute('aria-expanded', 'true');
    items()[0].focus();
    document.addEventListener('click', outside, true);
    window.addEventListener('resize', reposition);
    window.addEventListener('scroll', reposition, true);
  });
  menu.addEventListener('keydown', (ev) => {
    const list = items();
    const i = list.indexOf(document.activeElement);
    if (ev.key === 'ArrowDown') { ev.preventDefault(); list[(i + 1) % list.length].focus(); }
    else if (ev.key === 'ArrowUp') { ev.preventDefault(); list[(i - 1 + list.length) % list.length].focus(); }
    else if (ev.key === 'Home') { ev.preventDefault(); list[0].focus(); }
    else if (ev.key === 'End') { ev.preventDefault(); list[list.length - 1].focus(); }
    else if (ev.key === 'Escape' || ev.key === 'Tab') { close(); if (ev.key === 'Escape') { ev.preventDefault(); btn.focus(); } }
  });
  return h('div', { class: 'menu-wrap' }, btn, menu);
}

export async function runAction(u, act, reload, me) {
  try {
    switch (act) {
      case 'details': location.hash = `#/users/${encodeURIComponent(u.id)}`; return;
      case 'role': roleDialog(u, reload, me); return;
      case 'edit': await editDialog(u, reload); return;
      case 'set-password': passwordDialog(u); return;
      case 'resend-invite': await resendDialog(u, reload); return;
      case 'resend-link': {
        const r = await api('POST', `/users/${u.id}/resend-invite`, { send_invite: false });
        linkDialog(t('New invite link for {username}', { username: u.username }), r.invite_link, t('The earlier link no longer works.'));
        break;
      }
      case 'delete':
        if (!(await confirmDialog(t('Delete the user?'), t('{username} never accepted the invitation and will be deleted.', { username: u.username }), t('Delete')))) return;
        await api('DELETE', `/users/${u.id}`);
        toast(t('{username} deleted.', { username: u.username }));
        break;
      case 'disable': case 'archive': {
        const who = { username: u.username };
        const disable = act === 'disable';
        const msg = disable ? t('{username} will not be able to sign in; every session ends.', who) : t('{username} leaves the organisation; history is kept and the user can be restored.', who);
        if (!(await confirmDialog(disable ? t('Disable {username}?', who) : t('Archive {username}?', who), msg, disable ? t('Disable') : t('Archive')))) return;
        await api('POST', `/users/${u.id}/${act}`, {});
        toast(disable ? t('{username}: disabled.', who) : t('{username}: archived.', who));
        break;
      }
      case 'send-password-reset':
        await api('POST', `/users/${u.id}/send-password-reset`, {});
        toast(t('A reset link was mailed to {username}.', { username: u.username }));
        break;
      default: {
        const r = await api('POST', `/users/${u.id}/${act}`, {});
        toast(t('{username}: {status}.', { username: u.username, status: STATUS_LABELS[r.status] || t('done') }));
      }
    }
  } catch (e) { toast(e.message, 'bad'); }
  await reload();
}

function roleDialog(u, reload, me) {
  // The roles the signed-in person may give (capabilities in /me), and the current one.
  const grantable = (me && me.capabilities && me.capabilities.grantable_roles) || Object.keys(ROLE_LABELS);
  const s = select(Object.entries(ROLE_LABELS).filter(([r]) => grantable.includes(r) || r === u.role), { name: 'role', id: 'role-select' });
  s.value = u.role;
  const form = h('form', { class: 'stack' }, formError(), field(t('Role'), s),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => d.close() }, t('Cancel')), h('button', { type: 'submit', class: 'primary' }, t('Save role'))));
  const d = dialog(t('Change the role of {username}', { username: u.username }), form);
  submitted(form, async () => {
    try { await api('PATCH', `/users/${u.id}`, { role: s.value }); d.close(); toast(t('Role changed.')); await reload(); } catch (e) { showError(form, e); }
  });
}

// formName is the name of a schema row's input: the field as the API takes
// it, so that a refusal (field attributes.title) marks its input.
function formName(a) { return a.storage === 'document' ? `attributes.${a.name}` : a.name; }

// CHOICES are the known values of a few attributes (a select, not free text).
const CHOICES = { language: LANGUAGES };

// attrInput builds the input of schema row a, holding value v.
function attrInput(a, v, attrs = {}) {
  const name = formName(a);
  if (CHOICES[a.name]) {
    const s = select(CHOICES[a.name], { name, 'data-attr': a.name, ...attrs });
    s.value = v || '';
    return s;
  }
  if (a.type === 'boolean') return h('input', { type: 'checkbox', name, 'data-attr': a.name, checked: v === true || v === 'true', ...attrs });
  const type = { number: 'number', datetime: 'date' }[a.type] || (a.name === 'phone' ? 'tel' : 'text');
  return h('input', { type, name, 'data-attr': a.name, value: v === undefined || v === null ? '' : String(v), maxlength: a.max_length || undefined, ...attrs });
}

function inputValue(a, input) {
  if (a.type === 'boolean') return a.storage === 'metadata' ? (input.checked ? 'true' : '') : input.checked;
  return input.value.trim();
}

function attrField(a, input, hint) {
  if (a.type === 'boolean') return h('div', { class: 'check' }, input, h('label', { for: input.id || (input.id = uid('c')) }, attrLabel(a)), hint ? h('span', { class: 'hint' }, ` ${hint}`) : null);
  return field(attrLabel(a) + (a.required ? ' *' : ''), input, hint);
}

// NOT_IN_FORMS are rows edited elsewhere: the username never (by admins),
// the role in its own dialog.
const NOT_IN_FORMS = new Set(['username', 'role']);

// formRows are the schema rows the forms edit: what an admin may write,
// single-valued.
function formRows(schema) {
  return schema.filter((a) => a.admin_writable && a.type !== 'multi' && a.storage !== 'derived' && !NOT_IN_FORMS.has(a.name));
}

// editDialog changes what an admin may change, row by row of the user
// schema (username never; the email once, while it is empty). For a
// directory user, what the directory owns is shown read-only.
async function editDialog(u, reload) {
  const schema = await userSchema();
  const directory = u.source !== 'native';
  const inputs = [];
  const std = [];
  const custom = [];
  for (const a of formRows(schema)) {
    const v = attrValue(u, a);
    if (a.name === 'email' && u.email) continue; // set once; immutable after
    const owned = directory && a.directory_owned && a.name !== 'email';
    const input = attrInput(a, v, { disabled: owned, id: a.name === 'email' ? 'edit-email' : uid('edit') });
    if (owned) input.setAttribute('data-directory-owned', 'true');
    inputs.push([a, input, inputValue(a, input), owned]);
    const hint = owned ? t('From {source}.', { source: u.source }) : (a.name === 'email' ? t('This user has no email. It can be set once; then send the invitation.') : (a.type === 'reference' ? t("The manager's user id.") : undefined));
    (a.storage === 'metadata' ? custom : std).push(attrField(a, input, hint));
  }
  const form = h('form', { class: 'stack', id: 'edit-form' }, formError(),
    h('p', { class: 'hint' }, directory ? t('What {source} manages is read-only here.', { source: u.source }) : t('The username and email cannot be changed.')),
    h('div', { class: 'grid2' }, std),
    custom.length ? h('fieldset', {}, h('legend', {}, t('Custom fields')), h('div', { class: 'grid2' }, custom)) : null,
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => d.close() }, t('Cancel')), h('button', { type: 'submit', class: 'primary' }, t('Save'))));
  const d = dialog(t('Edit {username}', { username: u.username }), form, { id: 'edit-dialog', wide: true });
  submitted(form, async () => {
    // Only what changed is sent; the custom fields as a whole (they replace).
    const body = {};
    let metadata = null;
    for (const [a, input, before, owned] of inputs) {
      if (owned) continue;
      const v = inputValue(a, input);
      if (a.storage === 'metadata') {
        metadata = metadata || {};
        if (v !== '') metadata[a.name.slice(META.length)] = v;
        continue;
      }
      if (v === before) continue;
      if (a.storage === 'document') (body.attributes = body.attributes || {})[a.name] = v;
      else body[a.name] = v;
    }
    if (metadata) body.metadata = metadata;
    try { await api('PATCH', `/users/${u.id}`, body); d.close(); toast(t('{username} saved.', { username: u.username })); await reload(); } catch (e) { showError(form, e); }
  });
}

function passwordDialog(u) {
  const p = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true });
  const form = h('form', { class: 'stack' }, formError(),
    field(t('New password'), p, t('The user must change it at the next sign-in. Tell it to them over a separate channel.')),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => d.close() }, t('Cancel')), h('button', { type: 'submit', class: 'primary' }, t('Set password'))));
  const d = dialog(t('Reassign the password of {username}', { username: u.username }), form);
  submitted(form, async () => {
    try { await api('POST', `/users/${u.id}/set-password`, { password: p.value }); d.close(); toast(t('Password set.')); } catch (e) { showError(form, e); }
  });
}

// resendDialog mails the invitation again in a language chosen from the
// four built in: the user's own, else the organisation's default.
async function resendDialog(u, reload) {
  const st = await api('GET', '/org/settings').catch(() => ({}));
  const builtIn = LANGUAGES.slice(1);
  const known = (l) => builtIn.some(([v]) => v === l);
  const lang = select(builtIn, { name: 'language', id: 'resend-language' });
  lang.value = [u.language, st.stored && st.stored.default_language, st.default_language].find(known) || 'en';
  const again = !u.invite_reason;
  const form = h('form', { class: 'stack', id: 'resend-form' }, formError(),
    h('p', {}, again ? t('A new invitation goes to {email}; the earlier link stops working.', { email: u.email || '—' }) : t('The invitation goes to {email}.', { email: u.email || '—' })),
    field(t('Language of the invitation'), lang),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => d.close() }, t('Cancel')), h('button', { type: 'submit', class: 'primary', id: 'resend-submit' }, t('Send invitation'))));
  const d = dialog(again ? t('Resend the invitation to {username}', { username: u.username }) : t('Send the invitation to {username}', { username: u.username }), form, { id: 'resend-dialog' });
  submitted(form, async () => {
    try {
      await api('POST', `/users/${u.id}/resend-invite`, { language: lang.value });
      d.close();
      toast(t('Invitation to {username} queued.', { username: u.username }));
      await reload();
    } catch (e) { showError(form, e); }
  });
}

function linkDialog(title, link, note) {
  const input = h('input', { readonly: true, value: link, id: 'invite-link', class: 'mono', 'aria-label': t('Invitation link') });
  dialog(title, h('div', { class: 'stack' },
    h('p', {}, t('Send this link to the user yourself. It works once.'), note ? ' ' + note : ''),
    input,
    h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', id: 'copy-link', onclick: async () => toast(await copyText(link, input) ? t('Link copied.') : t('Select the link and copy it.')) }, t('Copy link')))), { id: 'link-dialog' });
}

// mailKind and mailState name a mail of the user's outbox.
export function mailKind(k) {
  return { invite: t('Invitation'), password_reset: t('Password reset'), group_message: t('Group message'), app_message: t('App message') }[k] || k;
}
export function mailState(st) {
  return { queued: t('queued'), sending: t('sending'), sent: t('sent'), failed: t('failed'), cancelled: t('cancelled') }[st] || st;
}

// historyAction names a history entry's action (user.create, …) in the
// console's language; one it does not know is shown as recorded.
export function historyAction(action) {
  const names = {
    'user.create': t('Created'), 'user.update': t('Changed'), 'user.link': t('Linked to the directory'), 'user.role': t('Role changed'),
    'user.lock': t('Locked'), 'user.unlock': t('Unlocked'), 'user.disable': t('Disabled'), 'user.enable': t('Enabled'),
    'user.archive': t('Archived'), 'user.restore': t('Restored'), 'user.delete': t('Deleted'), 'user.release_names': t('Names released'),
    'user.login_failed': t('Sign-in failed'), 'user.logout': t('Signed out'), 'user.change_password': t('Password changed'),
    'user.set_password': t('Password reassigned'), 'user.password_reset_requested': t('Password reset requested'),
    'user.password_reset': t('Password reset'), 'user.sessions_revoked': t('Sessions ended'), 'user.tokens_revoked': t('Tokens revoked'),
    'invite.issue': t('Invitation issued'), 'invite.mail_error': t('Invitation mail failed'),
    'user.accept': t('Invitation accepted'), 'user.mark_idle': t('Marked inactive (dormant)'),
  };
  return names[action] || action;
}

// ---- add / invite

function addDialog({ schema, ldap, me, reload }) {
  const form = h('form', { class: 'stack', id: 'add-form', novalidate: true });
  const err = formError();
  const canAdmin = me.role === 'owner' || me.role === 'admin';
  const directories = ldap.map((s) => s.name);

  // source
  const srcNative = h('input', { type: 'radio', name: 'source', value: 'native', id: 'src-native', checked: true });
  const srcLDAP = h('input', { type: 'radio', name: 'source', value: 'ldap', id: 'src-ldap', disabled: directories.length === 0 });
  const sourceSet = h('fieldset', { class: 'inline' }, h('legend', {}, t('Kind of user')),
    h('div', { class: 'check' }, srcNative, h('label', { for: 'src-native' }, t('Native (roster password)'))),
    h('div', { class: 'check' }, srcLDAP, h('label', { for: 'src-ldap' }, directories.length ? t('From an LDAP directory') : t('From an LDAP directory (no source configured)'))));

  // LDAP panel
  const ldapSource = select(directories.map((n) => [n, n]), { name: 'ldap_source', id: 'ldap-source' });
  const ldapQuery = h('input', { type: 'search', name: 'ldap_query', id: 'ldap-query' });
  const ldapResults = h('div', { id: 'ldap-results', 'aria-live': 'polite' });
  const ldapPanel = h('div', { class: 'stack', hidden: true, id: 'ldap-panel' },
    field(t('Directory'), ldapSource),
    field(t('Username in the directory'), ldapQuery, t('Type a name or username and search; pick the user to add. The directory provides every attribute.')),
    h('button', { type: 'button', id: 'ldap-search', onclick: ldapSearch }, t('Search the directory')),
    ldapResults);
  async function ldapSearch() {
    clear(ldapResults, h('p', { class: 'muted' }, t('Searching…')));
    try {
      const r = await api('GET', `/ldap/sources/${encodeURIComponent(ldapSource.value)}/search` + qs({ q: ldapQuery.value.trim() }));
      const entries = r.entries || [];
      if (!entries.length) { clear(ldapResults, h('p', {}, t('Nobody found.'))); return; }
      clear(ldapResults, h('fieldset', {}, h('legend', {}, t('Pick the user')), entries.map((e, i) => {
        const id = uid('ldap');
        return h('div', { class: 'check' }, h('input', { type: 'radio', name: 'ldap_pick', id, value: e.username, checked: i === 0 }),
          h('label', { for: id }, `${e.username} — ${[e.first_name, e.last_name].filter(Boolean).join(' ')} ${e.email ? '<' + e.email + '>' : ''}`));
      })));
    } catch (e) {
      clear(ldapResults, h('p', { class: 'error', role: 'alert' }, t('{error}. You can still type the exact username and add it.', { error: e.message })));
    }
  }

  // tabs
  const tabBasic = h('button', { type: 'button', role: 'tab', id: 'tab-basic', 'aria-selected': 'true', 'aria-controls': 'panel-basic' }, t('Basic Info'));
  const tabInvite = h('button', { type: 'button', role: 'tab', id: 'tab-invite', 'aria-selected': 'false', 'aria-controls': 'panel-invite', tabindex: '-1' }, t('Email Invite'));
  const tablist = h('div', { role: 'tablist', 'aria-label': t('New user') }, tabBasic, tabInvite);

  const username = h('input', { name: 'username', id: 'add-username', required: true, autocomplete: 'off' });
  const first = h('input', { name: 'first_name', id: 'add-first' });
  const last = h('input', { name: 'last_name', id: 'add-last' });
  const email = h('input', { name: 'email', id: 'add-email', type: 'email' });
  const phone = h('input', { name: 'phone', id: 'add-phone', type: 'tel' });
  const language = select(LANGUAGES, { name: 'language', id: 'add-language' });
  const [appsWrap, canApps] = checkbox(t('Can user create apps?'), { name: 'can_create_apps', id: 'add-can-create-apps' });
  // The role: any the actor may give (an owner every role, an admin all but
  // owner, a user manager those below theirs); the server checks it again.
  const grantable = { owner: ['owner', 'admin', 'user_manager', 'developer', 'member'], admin: ['admin', 'user_manager', 'developer', 'member'] }[me.role] || ['developer', 'member'];
  const roleSelect = select(grantable.map((r) => [r, ROLE_LABELS[r]]), { name: 'role', id: 'add-role' });
  roleSelect.value = 'member';
  const adminWrap = field(t('Role'), roleSelect, t('Owners and admins need an email.'));
  // The form's own fields above; every other row an admin may write comes
  // from the schema: more attributes, and the custom fields.
  const own = new Set(['username', 'email', 'first_name', 'last_name', 'phone', 'language', 'can_create_apps']);
  const extra = formRows(schema).filter((a) => !own.has(a.name)).map((a) => {
    const meta = a.storage === 'metadata';
    const input = attrInput(a, '', meta
      ? { id: `meta-${a.name.slice(META.length)}`, required: !!a.required, 'data-meta': a.name.slice(META.length), 'data-type': a.type }
      : { id: `add-attr-${a.name}` });
    return [a, input];
  });
  const moreInputs = extra.filter(([a]) => a.storage !== 'metadata');
  const metaInputs = extra.filter(([a]) => a.storage === 'metadata');
  const panelBasic = h('div', { role: 'tabpanel', id: 'panel-basic', 'aria-labelledby': 'tab-basic', class: 'stack' },
    h('div', { class: 'grid2' },
      field(t('Username *'), username, t('The email address is recommended. It cannot be changed later.')),
      field(t('Email'), email, t('Required for admins and to mail the invitation.')),
      field(t('First name'), first), field(t('Last name'), last),
      field(t('Phone'), phone), field(t('Language'), language)),
    appsWrap, adminWrap,
    moreInputs.length ? h('details', { class: 'more-attributes', id: 'add-more' }, h('summary', {}, t('More attributes')),
      h('div', { class: 'grid2' }, moreInputs.map(([a, input]) => attrField(a, input)))) : null,
    metaInputs.length ? h('fieldset', {}, h('legend', {}, t('Custom fields')), h('div', { class: 'grid2' },
      metaInputs.map(([a, input]) => attrField(a, input)))) : null);

  const sendNow = h('input', { type: 'radio', name: 'invite_how', value: 'mail', id: 'invite-mail', checked: true });
  const sendSelf = h('input', { type: 'radio', name: 'invite_how', value: 'link', id: 'invite-link-choice' });
  const inviteLang = select([['', t("The user's language")], ...LANGUAGES.slice(1)], { name: 'invite_language', id: 'invite-language' });
  const panelInvite = h('div', { role: 'tabpanel', id: 'panel-invite', 'aria-labelledby': 'tab-invite', class: 'stack', hidden: true },
    h('fieldset', {}, h('legend', {}, t('How should the user be invited?')),
      h('div', { class: 'check' }, sendNow, h('label', { for: 'invite-mail' }, t('Send the invitation by email now'))),
      h('div', { class: 'check' }, sendSelf, h('label', { for: 'invite-link-choice' }, t('Copy the invitation link and send it myself')))),
    field(t('Invitation language'), inviteLang),
    h('p', { class: 'hint' }, t('The link is valid for the organisation\'s invite period and works once.')));

  const nativePanel = h('div', { id: 'native-panel' }, tablist, panelBasic, panelInvite);
  function selectTab(tab) {
    for (const [tb, p] of [[tabBasic, panelBasic], [tabInvite, panelInvite]]) {
      const on = tb === tab;
      tb.setAttribute('aria-selected', String(on));
      tb.tabIndex = on ? 0 : -1;
      p.hidden = !on;
    }
    tab.focus();
  }
  tabBasic.addEventListener('click', () => selectTab(tabBasic));
  tabInvite.addEventListener('click', () => selectTab(tabInvite));
  tablist.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowLeft') { ev.preventDefault(); selectTab(document.activeElement === tabBasic ? tabInvite : tabBasic); }
  });
  for (const r of [srcNative, srcLDAP]) r.addEventListener('change', () => { nativePanel.hidden = srcLDAP.checked; ldapPanel.hidden = !srcLDAP.checked; });

  form.append(err, sourceSet, ldapPanel, nativePanel,
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => d.close() }, t('Cancel')),
      h('button', { type: 'submit', class: 'primary', id: 'add-submit' }, t('Add user'))));
  const d = dialog(t('Add user'), form, { id: 'add-dialog', wide: true });
  username.focus();

  submitted(form, async () => {
    let body;
    if (srcLDAP.checked) {
      const pick = form.querySelector('input[name=ldap_pick]:checked');
      body = { source: 'ldap', ldap_source: ldapSource.value, username: pick ? pick.value : ldapQuery.value.trim() };
    } else {
      const metadata = {};
      for (const [a, input] of metaInputs) {
        const v = inputValue(a, input);
        if (v !== '') metadata[a.name.slice(META.length)] = v;
      }
      body = {
        username: username.value.trim(), email: email.value.trim(), first_name: first.value.trim(), last_name: last.value.trim(),
        phone: phone.value.trim(), language: language.value, can_create_apps: canApps.checked, role: roleSelect.value,
        send_invite: sendNow.checked, invite_language: inviteLang.value, metadata,
      };
      for (const [a, input] of moreInputs) {
        const v = inputValue(a, input);
        if (v === '' || v === false) continue;
        if (a.storage === 'document') (body.attributes = body.attributes || {})[a.name] = v;
        else body[a.name] = v;
      }
      if (!body.username) { showError(form, { message: t('username is required'), field: 'username' }); selectTab(tabBasic); username.focus(); return; }
    }
    try {
      const u = await api('POST', '/users', body);
      d.close();
      if (u.invite_link) linkDialog(t('{username} is invited', { username: u.username }), u.invite_link);
      else if (u.invite_reason === 'no_email') toast(t('{username} added. No email: no invitation sent.', { username: u.username }));
      else toast(u.status === 'invited' ? t('Invitation mailed to {email}.', { email: u.email }) : t('{username} added.', { username: u.username }));
      await reload();
    } catch (e) {
      if (e.field && panelBasic.querySelector(`[name="${CSS.escape(e.field)}"]`)) selectTab(tabBasic);
      if (e.field && e.field.startsWith('metadata')) selectTab(tabBasic);
      if (e.field && moreInputs.some(([a]) => formName(a) === e.field)) { selectTab(tabBasic); form.querySelector('#add-more').open = true; }
      showError(form, e);
    }
  });
}
