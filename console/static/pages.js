// Groups, apps, organisation settings, SCIM tokens and LDAP sources.
import { h, clear, api, qs, field, checkbox, select, toast, dialog, confirmDialog, formError, showError, when, copyText, LANGUAGES, onSubmit as submitted } from './dom.js';
import { t, tn, formatDecimal, formatNumber } from './i18n.js';
import { templatesCard } from './templates.js';
import { oidcDialog } from './oidc.js';

function nameForm(id, label, button, onSubmit) {
  const input = h('input', { name: 'name', id: `${id}-name`, required: true, maxlength: '128' });
  const form = h('form', { class: 'inline-form', id }, formError(), field(label, input), h('button', { type: 'submit', class: 'primary' }, button));
  submitted(form, async () => {
    try { await onSubmit(input.value.trim()); input.value = ''; } catch (e) { showError(form, e); }
  });
  return form;
}

function renameDialog(title, current, save) {
  const input = h('input', { name: 'name', value: current, required: true });
  const form = h('form', { class: 'stack' }, formError(), field(t('New name'), input),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => d.close() }, t('Cancel')), h('button', { type: 'submit', class: 'primary' }, t('Rename'))));
  const d = dialog(title, form);
  submitted(form, async () => {
    try { await save(input.value.trim()); d.close(); } catch (e) { showError(form, e); }
  });
}

// userByLogin finds one user by exact username or email (the search's exact match).
async function userByLogin(login) {
  const r = await api('GET', '/users' + qs({ q: login, page_size: 5 }));
  const u = (r.users || []).find((x) => x.username.toLowerCase() === login.toLowerCase() || (x.email || '').toLowerCase() === login.toLowerCase());
  if (!u) throw Object.assign(new Error(t('No user {login}', { login })), { field: 'username' });
  return u;
}

// ---- groups

export async function groupsView(root, session) {
  const list = h('div', { class: 'table-wrap' });
  const caps = (session && session.me && session.me.capabilities) || {};
  clear(root, h('div', { class: 'page-head' }, h('h1', {}, t('Groups'))),
    caps.manage_groups ? nameForm('group-create', t('New group'), t('Create group'), async (name) => { await api('POST', '/groups', { name }); toast(t('Group {name} created.', { name })); await load(); }) : null,
    list);
  async function load() {
    const groups = (await api('GET', '/groups')).groups || [];
    const members = await Promise.all(groups.map((g) => api('GET', `/groups/${g.id}/members`).then((r) => (r.user_ids || []).length).catch(() => '?')));
    // The buttons are the group's actions as the server gives them: a
    // directory's group is changed in the directory, not here.
    const may = (g, act) => (g.actions || []).includes(act);
    clear(list, groups.length === 0 ? h('p', { class: 'muted' }, t('No groups yet.')) : h('table', { id: 'groups-table', class: 'cards' },
      h('thead', {}, h('tr', {}, [t('Name'), t('Source'), t('Members'), t('Actions')].map((label) => h('th', { scope: 'col' }, label)))),
      h('tbody', {}, groups.map((g, i) => h('tr', { 'data-name': g.name },
        h('td', { 'data-label': t('Name') }, g.name), h('td', { 'data-label': t('Source') }, g.source || t('native')), h('td', { 'data-label': t('Members') }, String(members[i])),
        h('td', { class: 'buttons' },
          h('button', { type: 'button', 'data-members': g.name, onclick: () => membersDialog(g, load, may(g, 'edit_members')) }, t('Members')),
          may(g, 'message') ? h('button', { type: 'button', 'data-message': g.name, onclick: () => messageDialog(t('Message the members of {name}', { name: g.name }), `/groups/${g.id}/message`, 'message-dialog') }, t('Message members')) : null,
          may(g, 'rename') ? h('button', { type: 'button', 'data-rename': g.name, onclick: () => renameDialog(t('Rename group {name}', { name: g.name }), g.name, async (name) => { await api('PATCH', `/groups/${g.id}`, { name }); await load(); }) }, t('Rename')) : null,
          may(g, 'delete') ? h('button', { type: 'button', class: 'danger', 'data-delete': g.name, onclick: async () => {
            if (!(await confirmDialog(t('Delete group {name}?', { name: g.name }), t('Its members stay; their access through it ends.'), t('Delete')))) return;
            try { await api('DELETE', `/groups/${g.id}`); await load(); } catch (e) { toast(e.message, 'bad'); }
          } }, t('Delete')) : null,
          directoryNote(g, may)))))));
  }
  await load();
}

// sourceName names a directory source ("ldap:corp" is LDAP source corp).
function sourceName(source) {
  const [kind, name] = String(source).split(/:(.*)/s);
  return { kind: { ldap: 'LDAP', scim: 'SCIM' }[kind] || kind, name: name || source };
}

// directoryNote says, for a group the server offers no change to (its
// directory owns it), where it is changed.
function directoryNote(g, may) {
  if (!g.source || g.source === 'native' || may(g, 'rename') || may(g, 'edit_members') || may(g, 'delete')) return null;
  return h('p', { class: 'hint directory-note', 'data-note': g.name }, t('Managed by {kind} source {name}: change it in the directory.', sourceName(g.source)));
}

async function membersDialog(g, reload, editable = true) {
  const list = h('ul', { class: 'members', id: 'members-list' });
  const login = h('input', { name: 'username', id: 'member-login', required: true });
  const form = h('form', { class: 'inline-form', id: 'member-add' }, formError(), field(t('Add a member (username or email)'), login), h('button', { type: 'submit', class: 'primary' }, t('Add')));
  dialog(t('Members of {name}', { name: g.name }), h('div', { class: 'stack' },
    editable ? form : h('p', { class: 'muted' }, t('The members of {name} come from its directory ({source}); change them there.', { name: g.name, source: g.source })), list), { wide: true, id: 'members-dialog' });
  async function load() {
    const ids = (await api('GET', `/groups/${g.id}/members`)).user_ids || [];
    const users = await Promise.all(ids.map((id) => api('GET', `/users/${id}`).catch(() => ({ id, username: id }))));
    clear(list, users.length ? users.map((u) => h('li', {}, `${u.username} `, editable ? h('button', { type: 'button', class: 'link', onclick: async () => {
      try { await api('DELETE', `/groups/${g.id}/members/${u.id}`); await load(); await reload(); } catch (e) { toast(e.message, 'bad'); }
    } }, t('Remove')) : null)) : h('li', { class: 'muted' }, t('No members.')));
  }
  submitted(form, async () => {
    try { const u = await userByLogin(login.value.trim()); await api('POST', `/groups/${g.id}/members`, { user_ids: [u.id] }); login.value = ''; await load(); await reload(); } catch (e) { showError(form, e); }
  });
  await load();
}

// messageDialog mails the users of a group or an app (to: title, path).
function messageDialog(title, path, id) {
  const subject = h('input', { name: 'subject', required: true, maxlength: '200' });
  const body = h('textarea', { name: 'body', required: true, rows: '8' });
  const lang = select(LANGUAGES.slice(1), { name: 'language' });
  const form = h('form', { class: 'stack' }, formError(), field(t('Subject'), subject), field(t('Message'), body), field(t('Language of the mail frame'), lang),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => d.close() }, t('Cancel')), h('button', { type: 'submit', class: 'primary' }, t('Send'))));
  const d = dialog(title, form, { wide: true, id });
  submitted(form, async () => {
    try {
      const r = await api('POST', path, { subject: subject.value, body: body.value, language: lang.value });
      d.close();
      const skipped = r.skipped || [];
      toast(skipped.length
        ? tn('{count} mail queued, {skipped} members skipped ({who}).', '{count} mails queued, {skipped} members skipped ({who}).', r.queued, { skipped: skipped.length, who: skipped.map((s) => `${s.username}: ${s.reason}`).join('; ') })
        : tn('{count} mail queued.', '{count} mails queued.', r.queued));
    } catch (e) { showError(form, e); }
  });
  return d;
}

// ---- apps

export async function appsView(root, session) {
  const list = h('div', { class: 'table-wrap' });
  const caps = (session && session.me && session.me.capabilities) || {};
  const groups = (await api('GET', '/groups').catch(() => ({ groups: [] }))).groups || [];
  clear(root, h('div', { class: 'page-head' }, h('h1', {}, t('Apps'))),
    caps.create_apps ? nameForm('app-create', t('New app'), t('Create app'), async (name) => { await api('POST', '/apps', { name }); toast(t('App {name} created.', { name })); await load(); }) : null,
    list);
  async function load() {
    const apps = (await api('GET', '/apps')).apps || [];
    // The buttons are the app's actions as the server gives them.
    const may = (a, act) => (a.actions || []).includes(act);
    clear(list, apps.length === 0 ? h('p', { class: 'muted' }, t('No apps yet.')) : h('table', { id: 'apps-table', class: 'cards' },
      h('thead', {}, h('tr', {}, [t('Name'), t('Created'), t('Actions')].map((label) => h('th', { scope: 'col' }, label)))),
      h('tbody', {}, apps.map((a) => h('tr', { 'data-name': a.name },
        h('td', { 'data-label': t('Name') }, a.name), h('td', { 'data-label': t('Created') }, when(a.created_at)),
        h('td', { class: 'buttons' },
          may(a, 'users') ? h('button', { type: 'button', 'data-users': a.name, onclick: () => appUsersDialog(a, groups, may(a, 'assign')) }, t('Users')) : null,
          may(a, 'assign') ? h('button', { type: 'button', 'data-assign': a.name, onclick: () => assignDialog(a, groups) }, t('Assign')) : null,
          may(a, 'view_oidc') ? h('button', { type: 'button', 'data-oidc': a.name, onclick: () => oidcDialog(a, may(a, 'edit_oidc')) }, t('Sign-in settings')) : null,
          may(a, 'message') ? h('button', { type: 'button', 'data-message': a.name, onclick: () => messageDialog(t('Message the users of {name}', { name: a.name }), `/apps/${a.id}/message`, 'app-message-dialog') }, t('Message users')) : null,
          may(a, 'rename') ? h('button', { type: 'button', 'data-rename': a.name, onclick: () => renameDialog(t('Rename app {name}', { name: a.name }), a.name, async (name) => { await api('PATCH', `/apps/${a.id}`, { name }); await load(); }) }, t('Rename')) : null,
          may(a, 'delete') ? h('button', { type: 'button', class: 'danger', 'data-delete': a.name, onclick: async () => {
            if (!(await confirmDialog(t('Delete app {name}?', { name: a.name }), t('Every assignment of it ends.'), t('Delete')))) return;
            try { await api('DELETE', `/apps/${a.id}`); await load(); } catch (e) { toast(e.message, 'bad'); }
          } }, t('Delete')) : null))))));
  }
  await load();
}

// appUsersDialog lists who has access to an app (directly or through a
// group) with the app role; whoever may assign it changes a direct
// assignment's role, unassigns users and groups, and assigns more.
async function appUsersDialog(a, groups, editable) {
  const users = h('tbody', { id: 'app-users' });
  const granted = h('ul', { class: 'members', id: 'app-groups' });
  const err = formError();
  const box = h('div', { class: 'stack' }, err,
    editable ? h('div', { class: 'actions' }, h('button', { type: 'button', id: 'app-users-assign', onclick: () => assignDialog(a, groups, load) }, t('Assign'))) : null,
    h('div', { class: 'table-wrap' }, h('table', { id: 'app-users-table', class: 'cards' },
      h('caption', { class: 'sr-only' }, t('Users of {name}', { name: a.name })),
      h('thead', {}, h('tr', {}, [t('User'), t('Access'), t('App role'), editable ? t('Actions') : null].filter(Boolean).map((label) => h('th', { scope: 'col' }, label)))),
      users)),
    h('h3', {}, t('Groups granted the app')), granted);
  dialog(t('Users of {name}', { name: a.name }), box, { wide: true, id: 'app-users-dialog' });
  const fail = (e) => { err.textContent = e.message; err.hidden = false; };
  async function load() {
    let r;
    try { r = await api('GET', `/apps/${a.id}/users`); } catch (e) { fail(e); return; }
    clear(users, (r.users || []).length === 0 ? h('tr', {}, h('td', { colspan: editable ? '4' : '3', class: 'muted' }, t('Nobody has access yet.'))) : r.users.map((u) => {
      const direct = !u.via_group;
      const role = h('input', { name: 'app_role', value: u.app_role, maxlength: '128', 'aria-label': t('App role of {username}', { username: u.username }) });
      return h('tr', { 'data-user': u.username },
        h('td', { 'data-label': t('User') }, u.username),
        h('td', { 'data-label': t('Access') }, direct ? t('Assigned directly') : t('Through group {name}', { name: u.via_group })),
        h('td', { 'data-label': t('App role') }, editable && direct ? role : u.app_role),
        editable ? h('td', {}, direct ? h('div', { class: 'buttons' },
          h('button', { type: 'button', 'data-save-role': u.username, onclick: async () => {
            try { await api('POST', `/apps/${a.id}/assignments`, { user_id: u.user_id, app_role: role.value.trim() }); toast(t('App role of {username}: {role}.', { username: u.username, role: role.value.trim() || 'user' })); await load(); } catch (e) { fail(e); }
          } }, t('Save role')),
          h('button', { type: 'button', class: 'danger', 'data-unassign': u.username, onclick: async () => {
            if (!(await confirmDialog(t('Unassign {name} from {username}?', { name: a.name, username: u.username }), t('Access through a group stays.'), t('Unassign')))) return;
            try { await api('DELETE', `/apps/${a.id}/assignments` + qs({ user_id: u.user_id })); toast(t('{name} unassigned from {username}.', { name: a.name, username: u.username })); await load(); } catch (e) { fail(e); }
          } }, t('Unassign'))) : h('span', { class: 'muted' }, t('Change it in the group'))) : null);
    }));
    clear(granted, (r.groups || []).length === 0 ? h('li', { class: 'muted' }, t('No group.')) : r.groups.map((g) => h('li', { 'data-group': g.group_name },
      t('{group} ({role})', { group: g.group_name, role: g.app_role }), ' ',
      editable ? h('button', { type: 'button', class: 'link', 'data-unassign-group': g.group_name, onclick: async () => {
        if (!(await confirmDialog(t('Unassign {name} from the group {group}?', { name: a.name, group: g.group_name }), t('Its members keep only the access they have otherwise.'), t('Unassign')))) return;
        try { await api('DELETE', `/apps/${a.id}/assignments` + qs({ group_id: g.group_id })); await load(); } catch (e) { fail(e); }
      } }, t('Unassign')) : null)));
  }
  await load();
}

function assignDialog(a, groups, done) {
  const who = select([['user', t('A user')], ['group', t("A group's members")]], { name: 'who', id: 'assign-who' });
  const login = h('input', { name: 'username', id: 'assign-user' });
  const group = select(groups.map((g) => [g.id, g.name]), { name: 'group_id', id: 'assign-group' });
  const role = h('input', { name: 'app_role', id: 'assign-role', value: 'user' });
  const userField = field(t('Username or email'), login);
  const groupField = field(t('Group'), group);
  groupField.hidden = true;
  who.addEventListener('change', () => { userField.hidden = who.value !== 'user'; groupField.hidden = who.value !== 'group'; });
  const form = h('form', { class: 'stack' }, formError(), field(t('Assign to'), who), userField, groupField, field(t('App role'), role),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => d.close() }, t('Cancel')), h('button', { type: 'submit', class: 'primary' }, t('Assign'))));
  const d = dialog(t('Assign {name}', { name: a.name }), form, { id: 'assign-dialog' });
  submitted(form, async () => {
    try {
      const body = { app_role: role.value.trim() || 'user' };
      if (who.value === 'user') body.user_id = (await userByLogin(login.value.trim())).id; else body.group_id = group.value;
      await api('POST', `/apps/${a.id}/assignments`, body);
      d.close();
      toast(t('{name} assigned.', { name: a.name }));
      if (done) await done();
    } catch (e) { showError(form, e); }
  });
}

// ---- settings

export async function settingsView(root, session) {
  const caps = (session && session.me && session.me.capabilities) || {};
  const [settings, policy, templates, meta, org] = await Promise.all([api('GET', '/org/settings'), api('GET', '/org/password-policy'), api('GET', '/org/mail-templates'),
    api('GET', '/org/metadata-template'), api('GET', '/org')]);
  const st = settings.stored || {};

  const validDays = h('input', { type: 'number', name: 'invite_valid_days', min: '0', max: '90', value: st.invite_valid_days || 0 });
  const dormancy = h('input', { type: 'number', name: 'dormancy_days', min: '0', max: '3650', value: st.dormancy_days || 0 });
  const defLang = select(LANGUAGES.map(([v, l]) => [v, v ? l : t('Server default')]), { name: 'default_language' });
  defLang.value = st.default_language || '';
  const orgForm = h('form', { class: 'card stack', id: 'org-settings' }, h('h2', {}, t('Organisation')), formError(),
    field(t('Invitations valid for (days)'), validDays, t('0 uses the server default; in force now: {value}.', { value: settings.invite_valid_for })),
    field(t('Inactive after no login for (days)'), dormancy, t('0 uses the server default; in force now: {value}.', { value: settings.dormancy_after })),
    field(t('Default language'), defLang),
    h('button', { type: 'submit', class: 'primary' }, t('Save organisation settings')));
  submitted(orgForm, async () => {
    try { await api('PUT', '/org/settings', { invite_valid_days: Number(validDays.value), dormancy_days: Number(dormancy.value), default_language: defLang.value }); toast(t('Settings saved.')); } catch (e) { showError(orgForm, e); }
  });

  const minLen = h('input', { type: 'number', name: 'min_length', min: '8', max: '128', value: policy.min_length });
  const boxes = ['require_upper', 'require_lower', 'require_digit', 'require_symbol'].map((k) => [k, checkbox({ require_upper: t('An upper-case letter'), require_lower: t('A lower-case letter'), require_digit: t('A digit'), require_symbol: t('A symbol') }[k], { name: k, checked: !!policy[k] })]);
  const expA = h('input', { type: 'number', name: 'expiry_days_admins', min: '0', value: policy.expiry_days_admins || 0 });
  const expU = h('input', { type: 'number', name: 'expiry_days_users', min: '0', value: policy.expiry_days_users || 0 });
  const policyForm = h('form', { class: 'card stack', id: 'password-policy' }, h('h2', {}, t('Password policy')), formError(),
    field(t('Minimum length'), minLen),
    h('fieldset', {}, h('legend', {}, t('Passwords must contain')), boxes.map(([, [wrap]]) => wrap)),
    field(t('Admins change their password every (days)'), expA, t('0: never expires')),
    field(t('Everyone else changes it every (days)'), expU, t('0: never expires')),
    h('button', { type: 'submit', class: 'primary' }, t('Save password policy')));
  submitted(policyForm, async () => {
    const body = { min_length: Number(minLen.value), expiry_days_admins: Number(expA.value), expiry_days_users: Number(expU.value) };
    for (const [k, [, input]] of boxes) body[k] = input.checked;
    try { await api('PUT', '/org/password-policy', body); toast(t('Password policy saved.')); } catch (e) { showError(policyForm, e); }
  });

  clear(root, h('div', { class: 'page-head' }, h('h1', {}, t('Organisation settings'))),
    profileCard(org, !!caps.org_settings),
    h('div', { class: 'cols' }, orgForm, policyForm), templatesCard(templates), metadataCard(meta.fields || []));
}

// profileCard shows the organisation's name (the operator's: roster org
// rename) and edits the name people see, the support address and the app
// catalog's address, for whoever holds org_settings.
function profileCard(org, editable) {
  const input = (name, value, attrs = {}) => h('input', { name, value: value || '', disabled: !editable, ...attrs });
  const name = input('name', org.name, { readonly: true, disabled: true });
  const display = input('display_name', org.display_name, { maxlength: '128', id: 'org-display-name' });
  const support = input('support_email', org.support_email, { type: 'email', id: 'org-support-email' });
  const catalog = input('catalog_url', org.catalog_url, { type: 'url', id: 'org-catalog-url' });
  const form = h('form', { class: 'card stack', id: 'org-profile' }, h('h2', {}, t('Organisation profile')), formError(),
    h('div', { class: 'grid2' },
      field(t('Organisation name'), name, t('The name in addresses and sign-in; the operator changes it on the host (roster org rename).')),
      field(t('Display name'), display, t('The name people see in mails and the console; empty uses the organisation name.'))),
    h('div', { class: 'grid2' }, field(t('Support email'), support), field(t('App catalog address'), catalog)),
    editable ? h('button', { type: 'submit', class: 'primary', id: 'org-profile-save' }, t('Save profile')) : h('p', { class: 'muted' }, t('Only owners and admins change the profile.')));
  submitted(form, async () => {
    try {
      const o = await api('PUT', '/org', { display_name: display.value.trim(), support_email: support.value.trim(), catalog_url: catalog.value.trim() });
      display.value = o.display_name || ''; support.value = o.support_email || ''; catalog.value = o.catalog_url || '';
      toast(t('Organisation profile saved.'));
    } catch (e) { showError(form, e); }
  });
  return form;
}

// metadataCard edits the organisation's custom fields (Digital.ai): each
// user's values are checked against them, and search finds them as field:value.
function metadataCard(initial) {
  const rows = h('tbody', {});
  const addRow = (f) => {
    const name = h('input', { name: 'name', value: f.name || '', 'aria-label': t('Field name'), pattern: '[A-Za-z][A-Za-z0-9_]{0,63}' });
    const label = h('input', { name: 'label', value: f.label || '', 'aria-label': t('Label') });
    const type = select([['string', t('Text')], ['number', t('Number')], ['boolean', t('Yes/no')], ['date', t('Date')]], { name: 'type', 'aria-label': t('Type') });
    type.value = f.type || 'string';
    const req = h('input', { type: 'checkbox', name: 'required', checked: !!f.required, 'aria-label': t('Required') });
    const tr = h('tr', { class: 'meta-field' }, h('td', {}, name), h('td', {}, label), h('td', {}, type), h('td', {}, req),
      h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => tr.remove() }, t('Remove'))));
    rows.appendChild(tr);
  };
  initial.forEach(addRow);
  const form = h('form', { class: 'card stack', id: 'metadata-template' }, h('h2', {}, t('Custom user fields')),
    h('p', { class: 'hint' }, t('Every user can carry these fields; values are checked against the type. Search them with field:value.')),
    formError(),
    h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, [t('Name'), t('Label'), t('Type'), t('Required'), t('Actions')].map((label) => h('th', { scope: 'col' }, label)))), rows)),
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => addRow({}) }, t('Add a field')),
      h('button', { type: 'submit', class: 'primary' }, t('Save fields'))));
  submitted(form, async () => {
    const fields = [...rows.querySelectorAll('tr')].map((tr) => ({
      name: tr.querySelector('[name=name]').value.trim(), label: tr.querySelector('[name=label]').value.trim(),
      type: tr.querySelector('[name=type]').value, required: tr.querySelector('[name=required]').checked,
    })).filter((f) => f.name);
    try { await api('PUT', '/org/metadata-template', { fields }); toast(t('Custom fields saved.')); } catch (e) { showError(form, e); }
  });
  return form;
}

// ---- tokens

export async function tokensView(root, session) {
  const list = h('div', { class: 'table-wrap' });
  const shown = h('div', { id: 'token-secret', 'aria-live': 'polite' });
  const name = h('input', { name: 'name', id: 'token-name', required: true });
  const scope = select([['scim', t('SCIM (identity provider)')], ['admin', t('Admin API (acts as you)')]], { name: 'scope', id: 'token-scope' });
  // A SCIM token grants at most its role ceiling: your role at most, admin unless an owner asks for owner.
  const ceilings = [['admin', t('admin')], ['user_manager', t('user manager')], ['developer', t('developer')], ['member', t('member')]];
  if (session.me.role === 'owner') ceilings.push(['owner', t('owner (the IdP may make owners)')]);
  const ceiling = select(ceilings, { name: 'role_ceiling', id: 'token-ceiling' });
  const ceilingField = field(t('Highest role it grants'), ceiling, t('Roles the identity provider asks for above it are lowered to it.'));
  scope.addEventListener('change', () => { ceilingField.hidden = scope.value !== 'scim'; });
  const form = h('form', { class: 'card stack', id: 'token-create' }, h('h2', {}, t('New token')), formError(),
    h('div', { class: 'grid2' }, field(t('Name'), name, t('SCIM users it creates get source scim:NAME.')), field(t('Scope'), scope)), ceilingField,
    h('button', { type: 'submit', class: 'primary' }, t('Create token')));
  submitted(form, async () => {
    try {
      const body = { name: name.value.trim(), scope: scope.value };
      if (scope.value === 'scim') body.role_ceiling = ceiling.value;
      const tok = await api('POST', '/tokens', body);
      name.value = '';
      const input = h('input', { readonly: true, value: tok.token, class: 'mono', id: 'token-value', 'aria-label': t('The new token') });
      clear(shown, h('div', { class: 'callout', role: 'alert' },
        h('p', {}, h('strong', {}, t('Token {name} created.', { name: tok.name })), ' ', t('Copy it now: it is shown only this once and stored hashed.')),
        input, h('button', { type: 'button', onclick: async () => toast(await copyText(tok.token, input) ? t('Token copied.') : t('Select the token and copy it.')) }, t('Copy token')),
        h('button', { type: 'button', class: 'link', onclick: () => clear(shown) }, t('I have saved it'))));
      await load();
    } catch (e) { showError(form, e); }
  });
  clear(root, h('div', { class: 'page-head' }, h('h1', {}, t('SCIM and admin tokens'))), shown, form, list);
  async function load() {
    const tokens = (await api('GET', '/tokens')).tokens || [];
    clear(list, tokens.length === 0 ? h('p', { class: 'muted' }, t('No tokens yet.')) : h('table', { id: 'tokens-table', class: 'cards' },
      h('thead', {}, h('tr', {}, [t('Name'), t('Scope'), t('Highest role'), t('Created by'), t('Created'), t('Revoked'), t('Actions')].map((label) => h('th', { scope: 'col' }, label)))),
      h('tbody', {}, tokens.map((tok) => h('tr', { 'data-name': tok.name },
        h('td', {}, tok.name), h('td', {}, tok.scope), h('td', {}, tok.role_ceiling || '—'), h('td', {}, tok.created_by || '—'), h('td', {}, when(tok.created_at)), h('td', {}, tok.revoked_at ? when(tok.revoked_at) : '—'),
        h('td', {}, tok.revoked_at ? '' : h('button', { type: 'button', class: 'danger', onclick: async () => {
          if (!(await confirmDialog(t('Revoke {name}?', { name: tok.name }), t('Clients using it are refused from now on.'), t('Revoke')))) return;
          try { await api('DELETE', `/tokens/${tok.id}`); await load(); } catch (e) { toast(e.message, 'bad'); }
        } }, t('Revoke'))))))));
  }
  await load();
}

// ---- LDAP

const SVGNS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) if (c) el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return el;
}

// runStatus names a run's status (ok, failed, …) in the console's language.
function runStatus(s) {
  return { ok: t('ok'), failed: t('failed'), aborted: t('aborted'), running: t('running') }[s] || s;
}

function changes(r) { return (r.created || 0) + (r.updated || 0) + (r.disabled || 0) + (r.archived || 0) + (r.enabled || 0) + (r.linked || 0) + (r.memberships || 0); }
function duration(r) { return r.finished_at ? Math.max(0, (new Date(r.finished_at) - new Date(r.started_at)) / 1000) : 0; }

// runsChart draws the last runs, oldest left: bars for the duration,
// dots joined by a line for the number of changes. A table carries the
// same numbers for screen readers.
export function runsChart(runs) {
  const rs = runs.slice().reverse();
  const W = 320, H = 120, pad = 24, n = Math.max(rs.length, 1);
  const slot = (W - 2 * pad) / n;
  const maxD = Math.max(0.001, ...rs.map(duration));
  const maxC = Math.max(1, ...rs.map(changes));
  const y = (v, max) => H - pad - (v / max) * (H - 2 * pad);
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'runs-chart', role: 'img', 'aria-label': tn('The last sync run: duration bar and changes line', 'Last {count} sync runs: duration bars and changes line', rs.length) },
    svg('title', {}, t('Duration (bars) and changes (line) of the last sync runs')),
    svg('line', { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, class: 'axis' }));
  const points = [];
  rs.forEach((r, i) => {
    const x = pad + i * slot;
    const bh = (H - pad) - y(duration(r), maxD);
    g.appendChild(svg('rect', { x: x + slot * 0.15, y: H - pad - bh, width: slot * 0.7, height: Math.max(bh, 1), class: `bar run-${r.status}` },
      svg('title', {}, tn('{when}: {seconds} s, {count} change, {status}', '{when}: {seconds} s, {count} changes, {status}', changes(r), { when: when(r.started_at), seconds: formatDecimal(duration(r), 2), status: runStatus(r.status) }))));
    points.push([x + slot / 2, y(changes(r), maxC)]);
  });
  if (points.length > 1) g.appendChild(svg('polyline', { points: points.map((p) => p.join(',')).join(' '), class: 'changes-line' }));
  for (const [px, py] of points) g.appendChild(svg('circle', { cx: px, cy: py, r: 3, class: 'changes-dot' }));
  const most = Math.max(0, ...rs.map(changes));
  g.appendChild(svg('text', { x: pad, y: 14, class: 'legend' }, t('bars: duration (longest {seconds} s) · line: changes (most {most})', { seconds: formatDecimal(maxD, 2), most })));
  return g;
}

export async function ldapView(root) {
  const wrap = h('div', { class: 'stack' });
  clear(root, h('div', { class: 'page-head' }, h('h1', {}, t('LDAP sources'))), wrap);
  async function load() {
    const sources = (await api('GET', '/ldap/sources')).sources || [];
    if (!sources.length) { clear(wrap, h('p', { class: 'muted' }, t('No LDAP source is configured for this organisation (ldap.sources in the configuration file).'))); return; }
    clear(wrap, sources.map((s) => {
      const runs = s.runs || [];
      const out = h('div', { 'aria-live': 'polite', class: 'sync-result' });
      return h('section', { class: 'card ldap-source', 'data-source': s.name },
        h('div', { class: 'page-head' }, h('h2', {}, s.name),
          h('div', { class: 'buttons' },
            h('button', { type: 'button', class: 'primary', 'data-sync': s.name, onclick: (ev) => syncNow(s.name, false, ev.target, out) }, t('Sync now')),
            h('button', { type: 'button', onclick: (ev) => syncNow(s.name, true, ev.target, out) }, t('Full sync')))),
        h('p', { class: 'muted' }, t('Last run {run} · last full run {full}', { run: when(s.state && s.state.last_run_at), full: when(s.state && s.state.last_full_at) })),
        out,
        runs.length ? runsChart(runs) : h('p', { class: 'muted' }, t('No runs yet.')),
        runs.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'runs' },
          h('caption', {}, t('Last runs')),
          h('thead', {}, h('tr', {}, [t('Started'), t('Mode'), t('Status'), t('Seconds'), t('Created'), t('Updated'), t('Disabled'), t('Archived'), t('Unchanged'), t('Errors'), t('Message')].map((label) => h('th', { scope: 'col' }, label)))),
          h('tbody', {}, runs.map((r) => h('tr', { class: `run-${r.status}` }, h('td', {}, when(r.started_at)), h('td', {}, r.dry_run ? t('{mode} (dry run)', { mode: r.mode }) : r.mode),
            h('td', {}, runStatus(r.status)), h('td', {}, formatDecimal(duration(r), 2)), ['created', 'updated', 'disabled', 'archived', 'unchanged', 'errors'].map((k) => h('td', {}, formatNumber(r[k] || 0))),
            h('td', {}, r.message || '')))))) : null);
    }));
  }
  async function syncNow(name, full, button, out) {
    button.disabled = true;
    clear(out, h('p', { class: 'muted' }, t('Syncing…')));
    try {
      const r = await api('POST', `/ldap/sources/${encodeURIComponent(name)}/sync${full ? '?full=true' : ''}`, undefined, { accept: [409] });
      await load();
      toast(t('{source}: {status} — {created} created, {updated} updated, {disabled} disabled, {archived} archived.', { source: name, status: r.status ? runStatus(r.status) : t('done'), created: r.created || 0, updated: r.updated || 0, disabled: r.disabled || 0, archived: r.archived || 0 }), r.status === 'ok' ? '' : 'bad');
    } catch (e) { clear(out, h('p', { class: 'error action-message', role: 'alert' }, e.message)); button.disabled = false; }
  }
  await load();
}
