// The roster console: a small single-page app on the admin API. Views are
// chosen by the URL fragment (#/users, #/groups, …); the session is an
// HttpOnly cookie set by POST /api/v1/auth/login with "cookie": true.
import { h, clear, api, field, formError, showError, setOnUnauthorized, toast, dialog, ROLE_LABELS, onSubmit as submitted } from './dom.js';
import { t, chosenLanguage, loadLanguage, saveLanguage, language, LANGUAGE_NAMES } from './i18n.js';
import { usersView } from './users.js';
import { importView } from './import.js';
import { groupsView, appsView, settingsView, tokensView, ldapView } from './pages.js';
import { userPageView, userIdFromHash } from './userpage.js';
import { auditView } from './audit.js';

const main = () => document.getElementById('main');
export const session = { me: null };

const views = {
  users: usersView,
  import: importView,
  groups: groupsView,
  apps: appsView,
  settings: settingsView,
  tokens: tokensView,
  ldap: ldapView,
  user: userPageView,
  audit: auditView,
};

// currentView is the view the URL names; #/users/{id} is one user's page.
function currentView() {
  if (userIdFromHash(location.hash)) return 'user';
  const m = location.hash.match(/^#\/([a-z]+)/);
  return m && views[m[1]] ? m[1] : 'users';
}

async function route() {
  if (!session.me) return;
  const name = currentView();
  // One user's page belongs to the users.
  const navName = name === 'user' ? 'users' : name;
  document.querySelectorAll('#nav a').forEach((a) => {
    if (a.dataset.view === navName) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  });
  // Each view renders into its own container: a view still loading when the
  // user moves on writes into a detached node, never over the next view.
  const el = h('div', { class: 'view', 'data-view': name });
  clear(main(), el);
  try {
    await views[name](el, session);
  } catch (err) {
    if (err.status === 401) return;
    clear(el, h('p', { class: 'error', role: 'alert' }, t('Could not load this page: {error}', { error: err.message })));
  }
}

function showLogin(message) {
  session.me = null;
  document.getElementById('topbar').hidden = true;
  document.title = t('Sign in · roster');
  const form = h('form', { class: 'card stack', id: 'login-form', novalidate: true });
  const user = h('input', { name: 'username', id: 'login-username', autocomplete: 'username', required: true });
  const pass = h('input', { name: 'password', id: 'login-password', type: 'password', autocomplete: 'current-password', required: true });
  const err = formError();
  clear(form,
    h('h1', {}, t('Sign in to roster')),
    message ? h('p', { class: 'muted' }, message) : null,
    err,
    field(t('Username or email'), user),
    field(t('Password'), pass),
    h('button', { type: 'submit', class: 'primary', id: 'login-submit' }, t('Sign in')),
    h('p', {}, h('button', { type: 'button', class: 'link', id: 'forgot', onclick: () => forgot(user.value) }, t('Forgot your password?'))),
  );
  // The language can be chosen before signing in too (the header's switcher
  // is hidden until then).
  const lang = h('select', { id: 'login-language' }, Object.entries(LANGUAGE_NAMES).map(([v, name]) => h('option', { value: v, lang: v }, name)));
  lang.value = language();
  lang.addEventListener('change', () => switchLanguage(lang.value));
  const langForm = h('div', { class: 'login-language' }, field(t('Language'), lang));
  submitted(form, async () => {
    try {
      const res = await api('POST', '/auth/login', { username: user.value.trim(), password: pass.value, audience: 'console', cookie: true }, { noRedirect: true });
      pass.value = '';
      await start(res.must_change_password);
    } catch (e) {
      // The server answers a locked or disabled account as it answers a
      // wrong password (no oracle): say once what a legitimately locked
      // user can do.
      if (e.code === 'login_failed') {
        showError(form, { message: t("{error}. An account is locked after 10 wrong passwords in a row, and a locked or disabled account cannot sign in either: if that may be yours, ask an administrator to unlock it (an owner's lock also lifts by itself after a while).", { error: e.message }) });
      } else {
        showError(form, e);
      }
    }
  });
  clear(main(), h('div', { class: 'narrow' }, form, langForm));
  user.focus();
  loginMethods(form);
}

// loginMethods shows the organisation's own identity provider when it has
// one (the server says which methods it offers), and puts the password
// fields behind a disclosure when password sign-in is off (break-glass
// owners keep theirs; the server refuses everyone else).
async function loginMethods(form) {
  let m;
  try {
    const res = await fetch('/auth/methods?org=default', { credentials: 'same-origin' });
    if (!res.ok) return;
    m = await res.json();
  } catch { return; }
  if (!m.sso) return;
  const back = '/console/' + location.hash;
  const button = h('a', { class: 'button primary', id: 'login-sso-button', href: `${m.sso.start_url}?audience=console&return=${encodeURIComponent(back)}` },
    t('Sign in with {idp}', { idp: m.sso.display_name }));
  const title = form.querySelector('h1');
  title.after(h('p', { id: 'login-sso' }, button));
  if (!m.password) {
    const more = h('details', { id: 'login-password-details', class: 'stack' }, h('summary', {}, t('Sign in with a password (break-glass owners only)')));
    const fields = [...form.children].filter((el) => el !== title && el.id !== 'login-sso' && !el.classList.contains('form-error'));
    fields.forEach((el) => more.append(el));
    form.append(more);
  }
  button.focus();
}

async function forgot(login) {
  if (!login) { toast(t('Type your username or email first.')); document.getElementById('login-username').focus(); return; }
  try {
    await api('POST', '/auth/password-reset', { login }, { noRedirect: true });
    toast(t('If this account may sign in, a reset link is on its way by mail.'));
  } catch (e) { toast(e.message, 'bad'); }
}

function showChangePassword() {
  const form = h('form', { class: 'card stack', id: 'change-password' });
  const oldp = h('input', { name: 'old_password', type: 'password', autocomplete: 'current-password', required: true });
  const newp = h('input', { name: 'new_password', type: 'password', autocomplete: 'new-password', required: true });
  form.append(h('h1', {}, t('Choose a new password')), h('p', { class: 'muted' }, t('Your password must be changed before you continue.')),
    formError(), field(t('Current password'), oldp), field(t('New password'), newp), h('button', { type: 'submit', class: 'primary' }, t('Change password')));
  submitted(form, async () => {
    try {
      await api('POST', '/auth/password', { old_password: oldp.value, new_password: newp.value });
      toast(t('Password changed.'));
      await start(false);
    } catch (e) { showError(form, e); }
  });
  clear(main(), h('div', { class: 'narrow' }, form));
  oldp.focus();
}

async function start(mustChange) {
  let me;
  try {
    me = await api('GET', '/me', undefined, { noRedirect: true });
  } catch (e) {
    if (e.status === 401) { showLogin(); return; }
    clear(main(), h('p', { class: 'error', role: 'alert' }, t('roster is not reachable: {error}', { error: e.message })));
    return;
  }
  session.me = me;
  if (mustChange || me.must_change_password) { showChangePassword(); return; }
  const caps = me.capabilities || {};
  if (!caps.manage_users) {
    clear(main(), h('div', { class: 'narrow' }, h('div', { class: 'card stack', id: 'no-access' },
      h('h1', {}, t('No access to the console')),
      h('p', {}, t('You are signed in as {username} ({role}). The console is for owners, admins and user managers.', { username: me.username, role: ROLE_LABELS[me.role] || me.role })),
      h('button', { type: 'button', onclick: signOut }, t('Sign out')))));
    return;
  }
  // The pages the server says this user may use (capabilities in /me).
  const needs = { settings: caps.org_settings, tokens: caps.tokens, ldap: caps.ldap, audit: caps.audit_log };
  document.querySelectorAll('#nav a').forEach((a) => {
    a.parentElement.hidden = a.dataset.view in needs && !needs[a.dataset.view];
  });
  document.getElementById('topbar').hidden = false;
  document.getElementById('me').textContent = `${me.username} (${ROLE_LABELS[me.role] || me.role})`;
  document.title = t('roster console');
  await route();
}

// Keyboard shortcuts for the frequent actions, listed under "?". They act
// only when no field has the focus and no dialog is open.
const shortcuts = () => [['/', t('Search users')], ['n', t('Add a user')], [t('g then u'), t('Go to the users')], [t('g then g'), t('Go to the groups')], ['?', t('Show these shortcuts')]];
let pendingG = false;
function shortcutsDialog() {
  if (document.getElementById('shortcuts-dialog')) return;
  dialog(t('Keyboard shortcuts'), h('dl', { class: 'props', id: 'shortcuts-list' },
    shortcuts().map(([k, what]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, what)])), { id: 'shortcuts-dialog' });
}
document.addEventListener('keydown', (ev) => {
  if (!session.me || ev.ctrlKey || ev.metaKey || ev.altKey || ev.defaultPrevented) return;
  const target = ev.target;
  if ((target instanceof Element && target.closest('input, textarea, select, [contenteditable], [role=menu]')) || document.querySelector('dialog[open]')) return;
  if (pendingG) {
    pendingG = false;
    if (ev.key === 'u') { location.hash = '#/users'; ev.preventDefault(); return; }
    if (ev.key === 'g') { location.hash = '#/groups'; ev.preventDefault(); return; }
  }
  switch (ev.key) {
    case '/': {
      const search = document.getElementById('search');
      if (search) { ev.preventDefault(); search.focus(); search.select(); }
      break;
    }
    case 'n': {
      const add = document.getElementById('add-user');
      if (add) { ev.preventDefault(); add.click(); }
      break;
    }
    case 'g': pendingG = true; setTimeout(() => { pendingG = false; }, 1500); break;
    case '?': ev.preventDefault(); shortcutsDialog(); break;
    default:
  }
});

setOnUnauthorized(() => { if (session.me) showLogin(t('Your session has ended; sign in again.')); });
window.addEventListener('hashchange', route);
async function signOut() {
  try { await api('POST', '/auth/logout'); } catch { /* the session may be gone already */ }
  showLogin(t('You are signed out.'));
}
document.getElementById('logout').addEventListener('click', signOut);
document.getElementById('shortcuts').addEventListener('click', shortcutsDialog);

// translateShell puts index.html's own words (the header, the first
// "Loading…") into the console's language.
function translateShell() {
  const nav = { users: t('Users'), import: t('Import'), groups: t('Groups'), apps: t('Apps'), settings: t('Settings'), tokens: t('SCIM tokens'), ldap: t('LDAP'), audit: t('Audit log') };
  document.querySelectorAll('#nav a').forEach((a) => { if (nav[a.dataset.view]) a.textContent = nav[a.dataset.view]; });
  document.querySelector('.topbar nav').setAttribute('aria-label', t('Main'));
  document.querySelector('.skip').textContent = t('Skip to content');
  const sc = document.getElementById('shortcuts');
  sc.textContent = t('Shortcuts');
  sc.title = t('Keyboard shortcuts (?)');
  document.getElementById('logout').textContent = t('Sign out');
  document.getElementById('language-label').textContent = t('Language');
  const loading = main().querySelector('p.muted');
  if (loading) loading.textContent = t('Loading…');
  document.title = t('roster console');
}

// The language switcher reloads the console in the chosen language (the
// choice is remembered for the next visits).
const langSwitch = document.getElementById('language-switch');
langSwitch.value = await loadLanguage(chosenLanguage());
function switchLanguage(l) { saveLanguage(l); location.reload(); }
langSwitch.addEventListener('change', () => switchLanguage(langSwitch.value));
translateShell();
start(false);
