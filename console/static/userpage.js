// One user's page (#/users/{id}): every attribute of the organisation's user
// schema, the custom fields, groups, apps with their app role (assign, change
// the role, unassign), the actions the server offers on this user, the mail
// and invite status, and the history as sentences.
import { h, clear, api, field, select, toast, confirmDialog, formError, showError, badge, inviteBadge, STATUS_LABELS, ROLE_LABELS, onSubmit as submitted } from './dom.js';
import { t, language } from './i18n.js';
import { userSchema, attrValue, attrText, attrLabel, historyAction, mailKind, mailState, actionsFor, runAction } from './users.js';

// userIdFromHash is the id of #/users/{id}, or ''.
export function userIdFromHash(hash) {
  const m = hash.match(/^#\/users\/([^/?#]+)/);
  return m ? decodeURIComponent(m[1]) : '';
}

// shortWhen is a history time as "3 Dec 10:42" (with the year when not this
// one), in the console's language (English days before months).
export function shortWhen(ts) {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return '—';
  const lang = language() === 'en' ? 'en-GB' : language();
  const day = { day: 'numeric', month: 'short' };
  if (d.getFullYear() !== new Date().getFullYear()) day.year = 'numeric';
  return `${new Intl.DateTimeFormat(lang, day).format(d)} ${new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d)}`;
}

function parse(js) {
  if (!js) return {};
  try { return JSON.parse(js) || {}; } catch { return {}; }
}

// actorName is who made a change, as a sentence names them.
export function actorName(e) {
  switch (e.actor_kind) {
    case 'self': return t('the user');
    case 'cli': return t('the operator (command line)');
    case 'system': return e.actor_name ? t('roster ({job})', { job: e.actor_name }) : 'roster';
    default: return e.actor_name || e.actor_id || e.actor_kind;
  }
}

// Actions whose name says it all: their status change is not repeated.
const NAMED = new Set(['user.create', 'user.lock', 'user.unlock', 'user.disable', 'user.enable', 'user.archive', 'user.restore', 'user.delete',
  'user.release_names', 'user.login_failed', 'user.logout', 'user.change_password', 'user.set_password', 'user.password_reset_requested',
  'user.password_reset', 'user.sessions_revoked', 'user.tokens_revoked', 'invite.issue', 'invite.mail_error', 'user.accept', 'user.mark_idle']);

// valueText shows one value of a change in the console's language.
function valueText(attr, v, schema) {
  if (attr === 'role') return ROLE_LABELS[v] || v;
  if (attr === 'status') return STATUS_LABELS[v] || v;
  const a = schema.find((x) => x.name === attr);
  if (v === 'true' && (attr === 'can_create_apps' || (a && a.type === 'boolean'))) return t('Yes');
  if (v === 'false' && (attr === 'can_create_apps' || (a && a.type === 'boolean'))) return t('No');
  return v;
}

function attrName(attr, schema) {
  const a = schema.find((x) => x.name === attr);
  if (a) return attrLabel(a);
  return { role: t('Role'), status: t('Status'), source: t('Source'), can_create_apps: t('Can create apps') }[attr] || attr;
}

// whatChanged lists what one history entry did, each as a phrase without
// who and when ("Role changed from Member to Admin").
export function whatChanged(e, schema = []) {
  const before = parse(e.before);
  const after = parse(e.after);
  switch (e.action) {
    case 'app.assign':
      if (before.app_role !== undefined && before.app_role !== after.app_role) {
        return [t('App role in {app} changed from {from} to {to}', { app: after.app, from: before.app_role, to: after.app_role })];
      }
      if (e.target_type === 'group') return [t('App {app} granted to the group with the role {role}', { app: after.app, role: after.app_role })];
      return [t('App {app} assigned with the role {role}', { app: after.app, role: after.app_role })];
    case 'app.unassign':
      return [e.target_type === 'group' ? t('App {app} no longer granted to the group', { app: before.app }) : t('App {app} unassigned', { app: before.app })];
    case 'group.add_member': return [t('Added to the group {group}', { group: after.group })];
    case 'group.remove_member': return [t('Removed from the group {group}', { group: after.group || before.group })];
    default:
  }
  if (NAMED.has(e.action) || !(e.changes || []).length) return [historyAction(e.action)];
  return e.changes.filter((c) => c.attribute !== 'password_set').map((c) => {
    const vars = { attribute: attrName(c.attribute, schema), from: valueText(c.attribute, c.from, schema), to: valueText(c.attribute, c.to, schema) };
    if (c.from === '') return t('{attribute} set to {to}', vars);
    if (c.to === '') return t('{attribute} cleared (was {from})', vars);
    return t('{attribute} changed from {from} to {to}', vars);
  });
}

// historySentences: "Role changed from Member to Admin by Ada, 3 Dec 10:42",
// one per change, each as nodes with the time in a <time> element.
const AT = '\u0000';
export function historySentences(e, schema = []) {
  const who = actorName(e);
  const what = whatChanged(e, schema);
  return (what.length ? what : [historyAction(e.action)]).map((w) => {
    const [before, after] = t('{what} by {actor}, {when}', { what: w, actor: who, when: AT }).split(AT);
    return [before, h('time', { datetime: e.at, title: new Date(e.at).toLocaleString(language()) }, shortWhen(e.at)), after || ''];
  });
}

export async function userPageView(root, session) {
  const id = userIdFromHash(location.hash);
  const me = session.me;
  const caps = me.capabilities || {};
  let u, hist, mails, schema, apps;
  try {
    [u, hist, mails, schema, apps] = await Promise.all([api('GET', `/users/${encodeURIComponent(id)}`), api('GET', `/users/${encodeURIComponent(id)}/history`),
      api('GET', `/users/${encodeURIComponent(id)}/mail`).catch(() => ({ mail: [] })), userSchema(),
      caps.manage_apps ? api('GET', '/apps').then((r) => r.apps || []).catch(() => []) : Promise.resolve([])]);
  } catch (e) {
    if (e.status === 404) {
      clear(root, h('div', { class: 'page-head' }, h('h1', {}, t('No such user'))),
        h('p', {}, t('This user does not exist (any more).')), backLink());
      return;
    }
    throw e;
  }
  const reload = async () => {
    // Only while this page is still the one shown.
    if (root.isConnected && userIdFromHash(location.hash) === id) await userPageView(root, session);
  };
  document.title = t('{username} · roster', { username: u.username });

  // A reference (the manager) is shown by its username.
  const refs = {};
  await Promise.all(schema.filter((a) => a.type === 'reference' && attrValue(u, a)).map(async (a) => {
    const other = await api('GET', `/users/${encodeURIComponent(attrValue(u, a))}`).catch(() => null);
    refs[a.name] = other ? other.username : attrValue(u, a);
  }));
  const empty = (v) => v === '' || v === undefined || v === null || (Array.isArray(v) && v.length === 0);
  const directory = u.source !== 'native';
  const dd = (a) => {
    let v = a.type === 'reference' ? (refs[a.name] || '') : attrText(u, a);
    if (a.type === 'reference' && attrValue(u, a)) v = h('a', { href: `#/users/${encodeURIComponent(attrValue(u, a))}` }, v);
    return h('dd', { 'data-attr': a.name }, empty(v) ? '—' : v,
      directory && a.directory_owned ? h('span', { class: 'muted', title: t('Managed by {source}', { source: u.source }) }, ` (${u.source})`) : null);
  };
  const std = schema.filter((a) => a.storage !== 'metadata');
  const blank = (a) => !(a.type === 'boolean' && a.storage !== 'metadata') && empty(a.type === 'reference' ? refs[a.name] : attrValue(u, a)) && !['status', 'invite_status', 'role'].includes(a.name);
  const custom = schema.filter((a) => a.storage === 'metadata');

  // The actions the server offers on this user now (core.UserActions).
  const acts = actionsFor(u).filter(([act]) => act !== 'details');
  const actionBar = h('div', { class: 'buttons', id: 'user-actions', role: 'group', 'aria-label': t('Actions for {username}', { username: u.username }) },
    acts.map(([act, label]) => h('button', { type: 'button', 'data-action': act, class: ['disable', 'archive', 'delete'].includes(act) ? 'danger' : '',
      onclick: async () => {
        await runAction(u, act, reload, me);
        if (act === 'delete') location.hash = '#/users';
      } }, label)));

  clear(root,
    backLink(),
    h('div', { class: 'page-head', id: 'user-page' },
      h('h1', {}, u.full_name || u.username, ' ', badge('status', u.status, STATUS_LABELS))),
    h('p', { class: 'muted' }, u.username, ' · ', ROLE_LABELS[u.role] || u.role, u.source !== 'native' ? ` · ${u.source}` : ''),
    acts.length ? actionBar : null,
    h('div', { class: 'cols' },
      h('section', { class: 'card', 'aria-labelledby': 'user-attrs-title' },
        h('h2', { id: 'user-attrs-title' }, t('Attributes')),
        h('dl', { class: 'props', id: 'user-details' }, std.filter((a) => !blank(a)).map((a) => [h('dt', {}, attrLabel(a)), dd(a)])),
        // The schema's other attributes, empty for this user, folded away.
        std.some(blank) ? h('details', { class: 'empty-attrs', id: 'user-empty-attrs' },
          h('summary', {}, t('Empty attributes ({count})', { count: std.filter(blank).length })),
          h('dl', { class: 'props' }, std.filter(blank).map((a) => [h('dt', {}, attrLabel(a)), dd(a)]))) : null),
      h('div', {},
        custom.length ? h('section', { class: 'card', 'aria-labelledby': 'user-custom-title' },
          h('h2', { id: 'user-custom-title' }, t('Custom fields')),
          h('dl', { class: 'props', id: 'user-custom' }, custom.map((a) => [h('dt', {}, attrLabel(a)), dd(a)]))) : null,
        mailSection(u, mails.mail || []),
        h('section', { class: 'card', 'aria-labelledby': 'user-groups-title' },
          h('h2', { id: 'user-groups-title' }, t('Groups')),
          (u.groups || []).length ? h('ul', { id: 'details-groups' }, u.groups.map((g) => h('li', {}, g))) : h('p', { class: 'muted' }, t('No groups.'))))),
    appsSection(u, apps, caps, reload),
    h('section', { class: 'card', 'aria-labelledby': 'user-history-title' },
      h('div', { class: 'page-head' }, h('h2', { id: 'user-history-title' }, t('History')),
        caps.audit_log ? h('a', { href: `#/audit?user=${encodeURIComponent(u.username)}`, id: 'user-audit-link' }, t('In the audit log')) : null),
      h('ol', { class: 'timeline sentences', id: 'details-history', reversed: true }, (hist.history || []).slice().reverse().map((e) => h('li', { 'data-action': e.action, title: e.action },
        historySentences(e, schema).map((s) => h('span', { class: 'sentence' }, s)))))));
}

function backLink() {
  // Back to the list as it was left (its filter is in the nav link).
  const nav = document.querySelector('#nav a[data-view=users]');
  return h('p', { class: 'back' }, h('a', { href: (nav && nav.getAttribute('href')) || '#/users', id: 'back-to-users' }, t('← Users')));
}

function mailSection(u, mail) {
  return h('section', { class: 'card', 'aria-labelledby': 'user-mail-title' },
    h('h2', { id: 'user-mail-title' }, t('Invitation and mail')),
    h('dl', { class: 'props', id: 'user-invite' },
      h('dt', {}, t('Invite status')), h('dd', {}, inviteBadge(u)),
      u.email ? [h('dt', {}, t('Email')), h('dd', {}, u.email)] : [h('dt', {}, t('Email')), h('dd', {}, t('none: no mail can be sent'))]),
    mail.length ? h('ul', { id: 'user-mail' }, mail.map((m) => h('li', {}, t('{kind} to {to}: {state}', { kind: mailKind(m.kind), to: m.to, state: mailState(m.state) }),
      m.last_error ? ` — ${m.last_error}` : ''))) : h('p', { class: 'muted' }, t('No mail sent yet.')));
}

// appsSection lists the user's apps with their app role: a direct assignment
// can have its role changed or be removed; one through a group is changed by
// the group's membership.
function appsSection(u, allApps, caps, reload) {
  const mine = u.apps || [];
  const may = !!caps.manage_apps;
  const rows = mine.map((a) => {
    const direct = !a.via_group;
    let roleCell = a.app_role;
    if (direct && may) {
      const input = h('input', { name: 'app_role', value: a.app_role, required: true, maxlength: '128', 'aria-label': t('App role in {app}', { app: a.app_name }), 'data-app-role': a.app_name });
      const form = h('form', { class: 'inline-form compact', 'data-role-form': a.app_name, hidden: true }, formError(), input, h('button', { type: 'submit' }, t('Save role')));
      const shown = h('span', { 'data-app-role-text': a.app_name }, a.app_role, ' ');
      const change = h('button', { type: 'button', class: 'link', 'data-change-role': a.app_name, 'aria-label': t('Change the app role in {app}', { app: a.app_name }),
        onclick: () => { shown.hidden = true; form.hidden = false; input.focus(); } }, t('Change'));
      shown.append(change);
      submitted(form, async () => {
        try {
          await api('POST', `/apps/${a.app_id}/assignments`, { user_id: u.id, app_role: input.value.trim() });
          toast(t('App role in {app} changed.', { app: a.app_name }));
          await reload();
        } catch (e) { showError(form, e); }
      });
      roleCell = [shown, form];
    }
    return h('tr', { 'data-app': a.app_name },
      h('td', { 'data-label': t('App') }, a.app_name),
      h('td', { 'data-label': t('App role') }, roleCell),
      h('td', { 'data-label': t('Through group') }, a.via_group || '—'),
      h('td', { class: 'buttons' }, direct && may ? h('button', { type: 'button', class: 'danger', 'data-unassign': a.app_name, onclick: async () => {
        if (!(await confirmDialog(t('Unassign {app}?', { app: a.app_name }), t('{username} loses access to {app}.', { username: u.username, app: a.app_name }), t('Unassign')))) return;
        try {
          await api('DELETE', `/apps/${a.app_id}/assignments?user_id=${encodeURIComponent(u.id)}`);
          toast(t('{app} unassigned.', { app: a.app_name }));
        } catch (e) { toast(e.message, 'bad'); }
        await reload();
      } }, t('Unassign')) : (direct ? null : h('span', { class: 'muted' }, t('Change it in the group')))));
  });
  let assign = null;
  const free = allApps.filter((a) => !mine.some((m) => m.app_id === a.id && !m.via_group));
  if (may && free.length) {
    const app = select(free.map((a) => [a.id, a.name]), { name: 'app_id', id: 'user-assign-app' });
    const role = h('input', { name: 'app_role', id: 'user-assign-role', value: 'user', required: true, maxlength: '128' });
    assign = h('form', { class: 'inline-form', id: 'user-assign' }, formError(), field(t('App'), app), field(t('App role'), role), h('button', { type: 'submit', class: 'primary' }, t('Assign')));
    submitted(assign, async () => {
      try {
        await api('POST', `/apps/${app.value}/assignments`, { user_id: u.id, app_role: role.value.trim() || 'user' });
        toast(t('{app} assigned.', { app: app.options[app.selectedIndex].textContent }));
        await reload();
      } catch (e) { showError(assign, e); }
    });
  }
  return h('section', { class: 'card', 'aria-labelledby': 'user-apps-title' },
    h('h2', { id: 'user-apps-title' }, t('Apps')),
    mine.length ? h('div', { class: 'table-wrap' }, h('table', { id: 'details-apps', class: 'cards' },
      h('thead', {}, h('tr', {}, [t('App'), t('App role'), t('Through group'), t('Actions')].map((l) => h('th', { scope: 'col' }, l)))),
      h('tbody', {}, rows))) : h('p', { class: 'muted', id: 'no-apps' }, t('No apps.')),
    assign);
}
