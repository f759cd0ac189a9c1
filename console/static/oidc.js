// An app's sign-in settings as an OpenID Connect client of roster
// (GET/PUT/DELETE /api/v1/apps/{id}/oidc): redirect URIs, post-logout URIs,
// the back-channel logout URI, public or confidential, and the client
// secret, which the server shows once, when it issues one.
import { h, clear, api, field, select, toast, dialog, confirmDialog, formError, showError, copyText, onSubmit as submitted } from './dom.js';
import { t } from './i18n.js';

const lines = (s) => s.split('\n').map((x) => x.trim()).filter(Boolean);

// The server names a list's entry (redirect_uris[1]): the field is the list's box.
function listField(err) {
  const m = /^([a-z_]+)\[\d+\]$/.exec(err.field || '');
  if (m) err.field = m[1];
  return err;
}

// editable is the app's edit_oidc action (the server's rule): without it
// the settings are shown read-only (view_oidc), with nothing to send.
export async function oidcDialog(app, editable) {
  let client = null;
  try {
    client = await api('GET', `/apps/${app.id}/oidc`);
  } catch (e) {
    if (e.status !== 404) { toast(e.message, 'bad'); return; }
  }
  // The options are short (a phone's select shows one line, cut at its
  // width); the hint under it says what the chosen kind means.
  const kind = select([['confidential', t('Confidential')], ['public', t('Public')]], { name: 'public', id: 'oidc-kind' });
  const kindHint = h('p', { class: 'hint', id: 'oidc-kind-hint' });
  kind.setAttribute('aria-describedby', 'oidc-kind-hint');
  const explainKind = () => {
    kindHint.textContent = kind.value === 'public'
      ? t('Public: a browser or mobile app, no secret, PKCE required') : t('Confidential: a server-side app with a client secret');
  };
  kind.addEventListener('change', explainKind);
  const redirects = h('textarea', { name: 'redirect_uris', id: 'oidc-redirects', rows: '3', class: 'mono', required: true, spellcheck: 'false' });
  const logouts = h('textarea', { name: 'post_logout_redirect_uris', id: 'oidc-logouts', rows: '2', class: 'mono', spellcheck: 'false' });
  const backchannel = h('input', { name: 'backchannel_logout_uri', id: 'oidc-backchannel', type: 'url', class: 'mono', spellcheck: 'false' });
  const about = h('div', { id: 'oidc-about' });
  const shown = h('div', { id: 'oidc-secret-area' });
  const rotate = h('button', { type: 'button', id: 'oidc-rotate' }, t('Issue a new secret'));
  const remove = h('button', { type: 'button', class: 'danger', id: 'oidc-remove' }, t('Stop signing in with roster'));
  const settings = h('div', { class: 'stack' },
    h('div', { class: 'field' }, h('label', { for: 'oidc-kind' }, t('Client type')), kind, kindHint),
    field(t('Redirect URIs'), redirects, t('One per line: where roster sends the user back with a code (https, or http to localhost).')),
    field(t('Post-logout redirect URIs'), logouts, t('One per line: where the app may send the user after signing out.')),
    field(t('Back-channel logout URI'), backchannel, t('Optional: roster POSTs a signed logout token here when the user signs out of the apps.')));
  const form = h('form', { class: 'stack', id: 'oidc-form' }, formError(), about, settings,
    editable ? null : h('p', { class: 'muted', id: 'oidc-read-only' }, t('Read-only: only those who manage {name} change its sign-in settings.', { name: app.name })),
    h('div', { class: 'actions' }, editable ? [remove, rotate] : null,
      h('button', { type: 'button', onclick: () => d.close() }, t('Close')),
      editable ? h('button', { type: 'submit', class: 'primary', id: 'oidc-save' }, t('Save')) : null));
  if (!editable) {
    kind.disabled = true;
    for (const x of [redirects, logouts, backchannel]) x.readOnly = true;
  }
  const d = dialog(t('Sign-in settings of {name}', { name: app.name }), h('div', { class: 'stack' }, shown, form), { wide: true, id: 'oidc-dialog' });

  function show(c) {
    client = c;
    kind.value = c && c.public ? 'public' : 'confidential';
    explainKind();
    redirects.value = ((c && c.redirect_uris) || []).join('\n');
    logouts.value = ((c && c.post_logout_redirect_uris) || []).join('\n');
    backchannel.value = (c && c.backchannel_logout_uri) || '';
    rotate.hidden = !editable || !c || c.public;
    remove.hidden = !editable || !c;
    settings.hidden = !editable && !c;
    const ro = (label, value, id) => field(label, h('input', { readonly: true, value, id, class: 'mono' }));
    clear(about, c
      ? h('div', { class: 'grid2' }, ro(t('Client ID'), c.client_id, 'oidc-client-id'), ro(t('Issuer'), c.issuer, 'oidc-issuer'))
      : h('p', { class: 'muted', id: 'oidc-none' }, editable
        ? t('{name} does not sign its users in with roster yet. Give it a redirect URI to make it an OpenID Connect client.', { name: app.name })
        : t('{name} does not sign its users in with roster.', { name: app.name })));
  }

  function showSecret(secret) {
    const input = h('input', { readonly: true, value: secret, class: 'mono', id: 'oidc-secret', 'aria-label': t('The client secret') });
    clear(shown, h('div', { class: 'callout', role: 'alert' },
      h('p', {}, h('strong', {}, t('A new client secret was issued.')), ' ', t('Copy it now: it is shown only this once and stored hashed.')),
      input,
      h('button', { type: 'button', id: 'oidc-copy', onclick: async () => toast(await copyText(secret, input) ? t('Secret copied.') : t('Select the secret and copy it.')) }, t('Copy secret')),
      h('button', { type: 'button', class: 'link', onclick: () => clear(shown) }, t('I have saved it'))));
  }

  async function put(body) {
    const c = await api('PUT', `/apps/${app.id}/oidc`, body);
    show(c);
    if (c.client_secret) showSecret(c.client_secret);
    else clear(shown);
    return c;
  }

  const values = () => ({
    public: kind.value === 'public',
    redirect_uris: lines(redirects.value),
    post_logout_redirect_uris: lines(logouts.value),
    backchannel_logout_uri: backchannel.value.trim(),
  });

  submitted(form, async () => {
    if (!editable) return;
    try {
      await put(values());
      toast(t('Sign-in settings of {name} saved.', { name: app.name }));
    } catch (e) { showError(form, listField(e)); }
  });
  rotate.addEventListener('click', async () => {
    if (!(await confirmDialog(t('Issue a new secret for {name}?', { name: app.name }), t('The current secret stops working at once: the app needs the new one.'), t('Issue a new secret')))) return;
    try {
      await put({ public: false, redirect_uris: client.redirect_uris, post_logout_redirect_uris: client.post_logout_redirect_uris,
        backchannel_logout_uri: client.backchannel_logout_uri || '', rotate_secret: true });
    } catch (e) { showError(form, listField(e)); }
  });
  remove.addEventListener('click', async () => {
    if (!(await confirmDialog(t('Stop {name} signing in with roster?', { name: app.name }), t('Its client settings and secret are deleted and every token it holds stops working.'), t('Stop signing in with roster')))) return;
    try {
      await api('DELETE', `/apps/${app.id}/oidc`);
      show(null);
      clear(shown);
      toast(t('{name} no longer signs in with roster.', { name: app.name }));
    } catch (e) { showError(form, e); }
  });
  show(client);
  return d;
}
