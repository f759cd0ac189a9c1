// Groups, apps, organisation settings, SCIM tokens and LDAP sources.
import { h, clear, api, qs, field, checkbox, select, toast, dialog, confirmDialog, formError, showError, when, copyText, LANGUAGES, onSubmit as submitted } from './dom.js';

function nameForm(id, label, button, onSubmit) {
  const input = h('input', { name: 'name', id: `${id}-name`, required: true, maxlength: '128' });
  const form = h('form', { class: 'inline-form', id }, formError(), field(label, input), h('button', { type: 'submit', class: 'primary' }, button));
  submitted(form, async () => {
    try { await onSubmit(input.value.trim()); input.value = ''; } catch (e) { showError(form, e); }
  });
  return form;
}

function renameDialog(kind, current, save) {
  const input = h('input', { name: 'name', value: current, required: true });
  const form = h('form', { class: 'stack' }, formError(), field('New name', input),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => d.close() }, 'Cancel'), h('button', { type: 'submit', class: 'primary' }, 'Rename')));
  const d = dialog(`Rename ${kind} ${current}`, form);
  submitted(form, async () => {
    try { await save(input.value.trim()); d.close(); } catch (e) { showError(form, e); }
  });
}

// userByLogin finds one user by exact username or email (the search's exact match).
async function userByLogin(login) {
  const r = await api('GET', '/users' + qs({ q: login, page_size: 5 }));
  const u = (r.users || []).find((x) => x.username.toLowerCase() === login.toLowerCase() || (x.email || '').toLowerCase() === login.toLowerCase());
  if (!u) throw Object.assign(new Error(`no user ${login}`), { field: 'username' });
  return u;
}

// ---- groups

export async function groupsView(root, session) {
  const list = h('div', { class: 'table-wrap' });
  const caps = (session && session.me && session.me.capabilities) || {};
  clear(root, h('div', { class: 'page-head' }, h('h1', {}, 'Groups')),
    caps.manage_groups ? nameForm('group-create', 'New group', 'Create group', async (name) => { await api('POST', '/groups', { name }); toast(`Group ${name} created.`); await load(); }) : null,
    list);
  async function load() {
    const groups = (await api('GET', '/groups')).groups || [];
    const members = await Promise.all(groups.map((g) => api('GET', `/groups/${g.id}/members`).then((r) => (r.user_ids || []).length).catch(() => '?')));
    // The buttons are the group's actions as the server gives them: a
    // directory's group is changed in the directory, not here.
    const may = (g, act) => (g.actions || []).includes(act);
    clear(list, groups.length === 0 ? h('p', { class: 'muted' }, 'No groups yet.') : h('table', { id: 'groups-table', class: 'cards' },
      h('thead', {}, h('tr', {}, ['Name', 'Source', 'Members', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, groups.map((g, i) => h('tr', { 'data-name': g.name },
        h('td', { 'data-label': 'Name' }, g.name), h('td', { 'data-label': 'Source' }, g.source || 'native'), h('td', { 'data-label': 'Members' }, String(members[i])),
        h('td', { class: 'buttons' },
          h('button', { type: 'button', 'data-members': g.name, onclick: () => membersDialog(g, load, may(g, 'edit_members')) }, 'Members'),
          may(g, 'message') ? h('button', { type: 'button', 'data-message': g.name, onclick: () => messageDialog(g) }, 'Message members') : null,
          may(g, 'rename') ? h('button', { type: 'button', 'data-rename': g.name, onclick: () => renameDialog('group', g.name, async (name) => { await api('PATCH', `/groups/${g.id}`, { name }); await load(); }) }, 'Rename') : null,
          may(g, 'delete') ? h('button', { type: 'button', class: 'danger', 'data-delete': g.name, onclick: async () => {
            if (!(await confirmDialog(`Delete group ${g.name}?`, 'Its members stay; their access through it ends.', 'Delete'))) return;
            try { await api('DELETE', `/groups/${g.id}`); await load(); } catch (e) { toast(e.message, 'bad'); }
          } }, 'Delete') : null))))));
  }
  await load();
}

async function membersDialog(g, reload, editable = true) {
  const list = h('ul', { class: 'members', id: 'members-list' });
  const login = h('input', { name: 'username', id: 'member-login', required: true });
  const form = h('form', { class: 'inline-form', id: 'member-add' }, formError(), field('Add a member (username or email)', login), h('button', { type: 'submit', class: 'primary' }, 'Add'));
  dialog(`Members of ${g.name}`, h('div', { class: 'stack' },
    editable ? form : h('p', { class: 'muted' }, `The members of ${g.name} come from its directory (${g.source}); change them there.`), list), { wide: true, id: 'members-dialog' });
  async function load() {
    const ids = (await api('GET', `/groups/${g.id}/members`)).user_ids || [];
    const users = await Promise.all(ids.map((id) => api('GET', `/users/${id}`).catch(() => ({ id, username: id }))));
    clear(list, users.length ? users.map((u) => h('li', {}, `${u.username} `, editable ? h('button', { type: 'button', class: 'link', onclick: async () => {
      try { await api('DELETE', `/groups/${g.id}/members/${u.id}`); await load(); await reload(); } catch (e) { toast(e.message, 'bad'); }
    } }, 'Remove') : null)) : h('li', { class: 'muted' }, 'No members.'));
  }
  submitted(form, async () => {
    try { const u = await userByLogin(login.value.trim()); await api('POST', `/groups/${g.id}/members`, { user_ids: [u.id] }); login.value = ''; await load(); await reload(); } catch (e) { showError(form, e); }
  });
  await load();
}

function messageDialog(g) {
  const subject = h('input', { name: 'subject', required: true, maxlength: '200' });
  const body = h('textarea', { name: 'body', required: true, rows: '8' });
  const lang = select(LANGUAGES.slice(1), { name: 'language' });
  const form = h('form', { class: 'stack' }, formError(), field('Subject', subject), field('Message', body), field('Language of the mail frame', lang),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => d.close() }, 'Cancel'), h('button', { type: 'submit', class: 'primary' }, 'Send')));
  const d = dialog(`Message the members of ${g.name}`, form, { wide: true });
  submitted(form, async () => {
    try {
      const r = await api('POST', `/groups/${g.id}/message`, { subject: subject.value, body: body.value, language: lang.value });
      d.close();
      toast(`${r.queued} mails queued${(r.skipped || []).length ? `, ${r.skipped.length} members skipped (${r.skipped.map((s) => `${s.username}: ${s.reason}`).join('; ')})` : ''}.`);
    } catch (e) { showError(form, e); }
  });
}

// ---- apps

export async function appsView(root) {
  const list = h('div', { class: 'table-wrap' });
  const groups = (await api('GET', '/groups').catch(() => ({ groups: [] }))).groups || [];
  clear(root, h('div', { class: 'page-head' }, h('h1', {}, 'Apps')),
    nameForm('app-create', 'New app', 'Create app', async (name) => { await api('POST', '/apps', { name }); toast(`App ${name} created.`); await load(); }),
    list);
  async function load() {
    const apps = (await api('GET', '/apps')).apps || [];
    clear(list, apps.length === 0 ? h('p', { class: 'muted' }, 'No apps yet.') : h('table', { id: 'apps-table', class: 'cards' },
      h('thead', {}, h('tr', {}, ['Name', 'Created', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, apps.map((a) => h('tr', { 'data-name': a.name },
        h('td', {}, a.name), h('td', {}, when(a.created_at)),
        h('td', { class: 'buttons' },
          h('button', { type: 'button', 'data-assign': a.name, onclick: () => assignDialog(a, groups) }, 'Assign'),
          h('button', { type: 'button', onclick: () => renameDialog('app', a.name, async (name) => { await api('PATCH', `/apps/${a.id}`, { name }); await load(); }) }, 'Rename'),
          h('button', { type: 'button', class: 'danger', onclick: async () => {
            if (!(await confirmDialog(`Delete app ${a.name}?`, 'Every assignment of it ends.', 'Delete'))) return;
            try { await api('DELETE', `/apps/${a.id}`); await load(); } catch (e) { toast(e.message, 'bad'); }
          } }, 'Delete')))))));
  }
  await load();
}

function assignDialog(a, groups) {
  const who = select([['user', 'A user'], ['group', "A group's members"]], { name: 'who', id: 'assign-who' });
  const login = h('input', { name: 'username', id: 'assign-user' });
  const group = select(groups.map((g) => [g.id, g.name]), { name: 'group_id', id: 'assign-group' });
  const role = h('input', { name: 'app_role', id: 'assign-role', value: 'user' });
  const userField = field('Username or email', login);
  const groupField = field('Group', group);
  groupField.hidden = true;
  who.addEventListener('change', () => { userField.hidden = who.value !== 'user'; groupField.hidden = who.value !== 'group'; });
  const form = h('form', { class: 'stack' }, formError(), field('Assign to', who), userField, groupField, field('App role', role),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: () => d.close() }, 'Cancel'), h('button', { type: 'submit', class: 'primary' }, 'Assign')));
  const d = dialog(`Assign ${a.name}`, form, { id: 'assign-dialog' });
  submitted(form, async () => {
    try {
      const body = { app_role: role.value.trim() || 'user' };
      if (who.value === 'user') body.user_id = (await userByLogin(login.value.trim())).id; else body.group_id = group.value;
      await api('POST', `/apps/${a.id}/assignments`, body);
      d.close();
      toast(`${a.name} assigned.`);
    } catch (e) { showError(form, e); }
  });
}

// ---- settings

export async function settingsView(root) {
  const [settings, policy, templates, meta] = await Promise.all([api('GET', '/org/settings'), api('GET', '/org/password-policy'), api('GET', '/org/mail-templates'),
    api('GET', '/org/metadata-template')]);
  const st = settings.stored || {};

  const validDays = h('input', { type: 'number', name: 'invite_valid_days', min: '0', max: '90', value: st.invite_valid_days || 0 });
  const dormancy = h('input', { type: 'number', name: 'dormancy_days', min: '0', max: '3650', value: st.dormancy_days || 0 });
  const defLang = select(LANGUAGES.map(([v, l]) => [v, v ? l : 'Server default']), { name: 'default_language' });
  defLang.value = st.default_language || '';
  const orgForm = h('form', { class: 'card stack', id: 'org-settings' }, h('h2', {}, 'Organisation'), formError(),
    field('Invitations valid for (days)', validDays, `0 uses the server default; in force now: ${settings.invite_valid_for}.`),
    field('Inactive after no login for (days)', dormancy, `0 uses the server default; in force now: ${settings.dormancy_after}.`),
    field('Default language', defLang),
    h('button', { type: 'submit', class: 'primary' }, 'Save organisation settings'));
  submitted(orgForm, async () => {
    try { await api('PUT', '/org/settings', { invite_valid_days: Number(validDays.value), dormancy_days: Number(dormancy.value), default_language: defLang.value }); toast('Settings saved.'); } catch (e) { showError(orgForm, e); }
  });

  const minLen = h('input', { type: 'number', name: 'min_length', min: '8', max: '128', value: policy.min_length });
  const boxes = ['require_upper', 'require_lower', 'require_digit', 'require_symbol'].map((k) => [k, checkbox({ require_upper: 'An upper-case letter', require_lower: 'A lower-case letter', require_digit: 'A digit', require_symbol: 'A symbol' }[k], { name: k, checked: !!policy[k] })]);
  const expA = h('input', { type: 'number', name: 'expiry_days_admins', min: '0', value: policy.expiry_days_admins || 0 });
  const expU = h('input', { type: 'number', name: 'expiry_days_users', min: '0', value: policy.expiry_days_users || 0 });
  const policyForm = h('form', { class: 'card stack', id: 'password-policy' }, h('h2', {}, 'Password policy'), formError(),
    field('Minimum length', minLen),
    h('fieldset', {}, h('legend', {}, 'Passwords must contain'), boxes.map(([, [wrap]]) => wrap)),
    field('Admins change their password every (days)', expA, '0: never expires'),
    field('Everyone else changes it every (days)', expU, '0: never expires'),
    h('button', { type: 'submit', class: 'primary' }, 'Save password policy'));
  submitted(policyForm, async () => {
    const body = { min_length: Number(minLen.value), expiry_days_admins: Number(expA.value), expiry_days_users: Number(expU.value) };
    for (const [k, [, input]] of boxes) body[k] = input.checked;
    try { await api('PUT', '/org/password-policy', body); toast('Password policy saved.'); } catch (e) { showError(policyForm, e); }
  });

  clear(root, h('div', { class: 'page-head' }, h('h1', {}, 'Organisation settings')),
    h('div', { class: 'cols' }, orgForm, policyForm), templatesCard(templates), metadataCard(meta.fields || []));
}

// metadataCard edits the organisation's custom fields (Digital.ai): each
// user's values are checked against them, and search finds them as field:value.
function metadataCard(initial) {
  const rows = h('tbody', {});
  const addRow = (f) => {
    const name = h('input', { name: 'name', value: f.name || '', 'aria-label': 'Field name', pattern: '[A-Za-z][A-Za-z0-9_]{0,63}' });
    const label = h('input', { name: 'label', value: f.label || '', 'aria-label': 'Label' });
    const type = select([['string', 'Text'], ['number', 'Number'], ['boolean', 'Yes/no'], ['date', 'Date']], { name: 'type', 'aria-label': 'Type' });
    type.value = f.type || 'string';
    const req = h('input', { type: 'checkbox', name: 'required', checked: !!f.required, 'aria-label': 'Required' });
    const tr = h('tr', { class: 'meta-field' }, h('td', {}, name), h('td', {}, label), h('td', {}, type), h('td', {}, req),
      h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => tr.remove() }, 'Remove')));
    rows.appendChild(tr);
  };
  initial.forEach(addRow);
  const form = h('form', { class: 'card stack', id: 'metadata-template' }, h('h2', {}, 'Custom user fields'),
    h('p', { class: 'hint' }, 'Every user can carry these fields; values are checked against the type. Search them with field:value.'),
    formError(),
    h('div', { class: 'table-wrap' }, h('table', {}, h('thead', {}, h('tr', {}, ['Name', 'Label', 'Type', 'Required', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))), rows)),
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: () => addRow({}) }, 'Add a field'),
      h('button', { type: 'submit', class: 'primary' }, 'Save fields')));
  submitted(form, async () => {
    const fields = [...rows.querySelectorAll('tr')].map((tr) => ({
      name: tr.querySelector('[name=name]').value.trim(), label: tr.querySelector('[name=label]').value.trim(),
      type: tr.querySelector('[name=type]').value, required: tr.querySelector('[name=required]').checked,
    })).filter((f) => f.name);
    try { await api('PUT', '/org/metadata-template', { fields }); toast('Custom fields saved.'); } catch (e) { showError(form, e); }
  });
  return form;
}

function templatesCard(initial) {
  const langs = (initial.languages || ['en', 'de', 'fr', 'es']).map((l) => [l, l]);
  const kind = select([['invite', 'Invitation'], ['password_reset', 'Password reset'], ['group_message', 'Group message']], { name: 'kind', id: 'tpl-kind' });
  const lang = select(langs, { name: 'language', id: 'tpl-language' });
  const subject = h('input', { name: 'subject', id: 'tpl-subject' });
  const html = h('textarea', { name: 'html', id: 'tpl-html', rows: '10', class: 'mono' });
  const text = h('textarea', { name: 'text', id: 'tpl-text', rows: '8', class: 'mono' });
  const state = h('p', { class: 'muted', id: 'tpl-state' });
  const preview = h('section', { id: 'tpl-preview', 'aria-label': 'Preview' });
  let overrides = initial.templates || [];
  const form = h('form', { class: 'card stack', id: 'mail-templates' }, h('h2', {}, 'Invitation and mail templates'),
    h('p', { class: 'hint' }, 'Each language has its own text. Leave the fields empty to keep the template shipped with roster. Templates use Go template syntax; the preview fills in sample data.'),
    h('div', { class: 'grid2' }, field('Mail', kind), field('Language', lang)), state, formError(),
    field('Subject', subject), field('HTML body', html), field('Text body', text),
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'tpl-preview-button', onclick: () => showPreview(true) }, 'Preview'),
      h('button', { type: 'button', id: 'tpl-reset', class: 'danger', onclick: resetTpl }, 'Back to the shipped template'),
      h('button', { type: 'submit', class: 'primary' }, 'Save template')),
    preview);
  function current() { return overrides.find((t) => t.kind === kind.value && t.language === lang.value); }
  async function pick() {
    const o = current();
    subject.value = o ? o.subject : ''; html.value = o ? o.html : ''; text.value = o ? o.text : '';
    state.textContent = o ? `This organisation's own text, saved ${when(o.updated_at)}.` : 'The template shipped with roster is in force.';
    await showPreview(false);
  }
  async function showPreview(draft) {
    try {
      const r = draft && (subject.value || html.value || text.value)
        ? await api('POST', '/org/mail-templates/preview', { kind: kind.value, language: lang.value, subject: subject.value, html: html.value, text: text.value })
        : await api('GET', '/org/mail-templates/preview' + qs({ kind: kind.value, language: lang.value, format: 'json' }));
      form.querySelector('.form-error').hidden = true;
      const frame = h('iframe', { sandbox: '', title: 'HTML preview', class: 'preview-frame' });
      frame.srcdoc = r.html || '';
      clear(preview, h('h3', {}, 'Preview'), h('p', {}, h('strong', {}, 'Subject: '), h('span', { id: 'tpl-preview-subject' }, r.subject || '')), frame,
        h('pre', { class: 'preview-text' }, r.text || ''));
    } catch (e) { showError(form, e); }
  }
  async function resetTpl() {
    if (!current()) { toast('The shipped template is already in force.'); return; }
    try { await api('DELETE', `/org/mail-templates/${kind.value}/${lang.value}`); overrides = (await api('GET', '/org/mail-templates')).templates || []; await pick(); toast('Shipped template restored.'); } catch (e) { toast(e.message, 'bad'); }
  }
  submitted(form, async () => {
    try {
      await api('PUT', `/org/mail-templates/${kind.value}/${lang.value}`, { subject: subject.value, html: html.value, text: text.value });
      overrides = (await api('GET', '/org/mail-templates')).templates || [];
      await pick();
      toast('Template saved.');
    } catch (e) { showError(form, e); }
  });
  kind.addEventListener('change', pick);
  lang.addEventListener('change', pick);
  pick();
  return form;
}

// ---- tokens

export async function tokensView(root, session) {
  const list = h('div', { class: 'table-wrap' });
  const shown = h('div', { id: 'token-secret', 'aria-live': 'polite' });
  const name = h('input', { name: 'name', id: 'token-name', required: true });
  const scope = select([['scim', 'SCIM (identity provider)'], ['admin', 'Admin API (acts as you)']], { name: 'scope', id: 'token-scope' });
  // A SCIM token grants at most its role ceiling: your role at most, admin unless an owner asks for owner.
  const ceilings = [['admin', 'admin'], ['user_manager', 'user manager'], ['developer', 'developer'], ['member', 'member']];
  if (session.me.role === 'owner') ceilings.push(['owner', 'owner (the IdP may make owners)']);
  const ceiling = select(ceilings, { name: 'role_ceiling', id: 'token-ceiling' });
  const ceilingField = field('Highest role it grants', ceiling, 'Roles the identity provider asks for above it are lowered to it.');
  scope.addEventListener('change', () => { ceilingField.hidden = scope.value !== 'scim'; });
  const form = h('form', { class: 'card stack', id: 'token-create' }, h('h2', {}, 'New token'), formError(),
    h('div', { class: 'grid2' }, field('Name', name, 'SCIM users it creates get source scim:NAME.'), field('Scope', scope)), ceilingField,
    h('button', { type: 'submit', class: 'primary' }, 'Create token'));
  submitted(form, async () => {
    try {
      const body = { name: name.value.trim(), scope: scope.value };
      if (scope.value === 'scim') body.role_ceiling = ceiling.value;
      const t = await api('POST', '/tokens', body);
      name.value = '';
      const input = h('input', { readonly: true, value: t.token, class: 'mono', id: 'token-value', 'aria-label': 'The new token' });
      clear(shown, h('div', { class: 'callout', role: 'alert' },
        h('p', {}, h('strong', {}, `Token ${t.name} created. `), 'Copy it now: it is shown only this once and stored hashed.'),
        input, h('button', { type: 'button', onclick: async () => toast(await copyText(t.token, input) ? 'Token copied.' : 'Select the token and copy it.') }, 'Copy token'),
        h('button', { type: 'button', class: 'link', onclick: () => clear(shown) }, 'I have saved it')));
      await load();
    } catch (e) { showError(form, e); }
  });
  clear(root, h('div', { class: 'page-head' }, h('h1', {}, 'SCIM and admin tokens')), shown, form, list);
  async function load() {
    const tokens = (await api('GET', '/tokens')).tokens || [];
    clear(list, tokens.length === 0 ? h('p', { class: 'muted' }, 'No tokens yet.') : h('table', { id: 'tokens-table', class: 'cards' },
      h('thead', {}, h('tr', {}, ['Name', 'Scope', 'Highest role', 'Created by', 'Created', 'Revoked', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, tokens.map((t) => h('tr', { 'data-name': t.name },
        h('td', {}, t.name), h('td', {}, t.scope), h('td', {}, t.role_ceiling || '—'), h('td', {}, t.created_by || '—'), h('td', {}, when(t.created_at)), h('td', {}, t.revoked_at ? when(t.revoked_at) : '—'),
        h('td', {}, t.revoked_at ? '' : h('button', { type: 'button', class: 'danger', onclick: async () => {
          if (!(await confirmDialog(`Revoke ${t.name}?`, 'Clients using it are refused from now on.', 'Revoke'))) return;
          try { await api('DELETE', `/tokens/${t.id}`); await load(); } catch (e) { toast(e.message, 'bad'); }
        } }, 'Revoke')))))));
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
  const g = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'runs-chart', role: 'img', 'aria-label': `Last ${rs.length} sync runs: duration bars and changes line` },
    svg('title', {}, 'Duration (bars) and changes (line) of the last sync runs'),
    svg('line', { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, class: 'axis' }));
  const points = [];
  rs.forEach((r, i) => {
    const x = pad + i * slot;
    const bh = (H - pad) - y(duration(r), maxD);
    g.appendChild(svg('rect', { x: x + slot * 0.15, y: H - pad - bh, width: slot * 0.7, height: Math.max(bh, 1), class: `bar run-${r.status}` },
      svg('title', {}, `${when(r.started_at)}: ${duration(r).toFixed(2)} s, ${changes(r)} changes, ${r.status}`)));
    points.push([x + slot / 2, y(changes(r), maxC)]);
  });
  if (points.length > 1) g.appendChild(svg('polyline', { points: points.map((p) => p.join(',')).join(' '), class: 'changes-line' }));
  for (const [px, py] of points) g.appendChild(svg('circle', { cx: px, cy: py, r: 3, class: 'changes-dot' }));
  const most = Math.max(0, ...rs.map(changes));
  g.appendChild(svg('text', { x: pad, y: 14, class: 'legend' }, `bars: duration (longest ${maxD.toFixed(2)} s) · line: changes (most ${most})`));
  return g;
}

export async function ldapView(root) {
  const wrap = h('div', { class: 'stack' });
  clear(root, h('div', { class: 'page-head' }, h('h1', {}, 'LDAP sources')), wrap);
  async function load() {
    const sources = (await api('GET', '/ldap/sources')).sources || [];
    if (!sources.length) { clear(wrap, h('p', { class: 'muted' }, 'No LDAP source is configured for this organisation (ldap.sources in the configuration file).')); return; }
    clear(wrap, sources.map((s) => {
      const runs = s.runs || [];
      const out = h('div', { 'aria-live': 'polite', class: 'sync-result' });
      return h('section', { class: 'card ldap-source', 'data-source': s.name },
        h('div', { class: 'page-head' }, h('h2', {}, s.name),
          h('div', { class: 'buttons' },
            h('button', { type: 'button', class: 'primary', 'data-sync': s.name, onclick: (ev) => syncNow(s.name, false, ev.target, out) }, 'Sync now'),
            h('button', { type: 'button', onclick: (ev) => syncNow(s.name, true, ev.target, out) }, 'Full sync'))),
        h('p', { class: 'muted' }, `Last run ${when(s.state && s.state.last_run_at)} · last full run ${when(s.state && s.state.last_full_at)}`),
        out,
        runs.length ? runsChart(runs) : h('p', { class: 'muted' }, 'No runs yet.'),
        runs.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'runs' },
          h('caption', {}, 'Last runs'),
          h('thead', {}, h('tr', {}, ['Started', 'Mode', 'Status', 'Seconds', 'Created', 'Updated', 'Disabled', 'Archived', 'Unchanged', 'Errors', 'Message'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, runs.map((r) => h('tr', { class: `run-${r.status}` }, h('td', {}, when(r.started_at)), h('td', {}, r.mode + (r.dry_run ? ' (dry run)' : '')),
            h('td', {}, r.status), h('td', {}, duration(r).toFixed(2)), ['created', 'updated', 'disabled', 'archived', 'unchanged', 'errors'].map((k) => h('td', {}, String(r[k] || 0))),
            h('td', {}, r.message || '')))))) : null);
    }));
  }
  async function syncNow(name, full, button, out) {
    button.disabled = true;
    clear(out, h('p', { class: 'muted' }, 'Syncing…'));
    try {
      const r = await api('POST', `/ldap/sources/${encodeURIComponent(name)}/sync${full ? '?full=true' : ''}`, undefined, { accept: [409] });
      await load();
      toast(`${name}: ${r.status || 'done'} — ${r.created || 0} created, ${r.updated || 0} updated, ${r.disabled || 0} disabled, ${r.archived || 0} archived.`, r.status === 'ok' ? '' : 'bad');
    } catch (e) { clear(out, h('p', { class: 'error action-message', role: 'alert' }, e.message)); button.disabled = false; }
  }
  await load();
}
