// The settings page's mail template editor: for a kind of mail and a
// language it starts from the organisation's own template, else the one
// roster ships (GET /org/mail-templates/builtin/…); it lists the variables
// the server checks templates against (GET /org/mail-templates/variables),
// each inserted at the cursor by a click; the server's refusals are shown in
// words beside the editor; and the preview is the mail as it is sent,
// rendered by the server, in a sandboxed frame that runs no script.
import { h, clear, api, field, select, toast, confirmDialog, formError, showError, clearMessages, when, onSubmit as submitted } from './dom.js';
import { t } from './i18n.js';

const PARTS = ['subject', 'html', 'text'];

// templatesCard is the editor; initial is GET /org/mail-templates.
export function templatesCard(initial) {
  const langs = (initial.languages || ['en', 'de', 'fr', 'es']).map((l) => [l, l]);
  const kind = select([['invite', t('Invitation')], ['password_reset', t('Password reset')], ['group_message', t('Group message')], ['app_message', t('App message')]],
    { name: 'kind', id: 'tpl-kind' });
  const lang = select(langs, { name: 'language', id: 'tpl-language' });
  const inputs = {
    subject: h('input', { name: 'subject', id: 'tpl-subject', class: 'mono', autocomplete: 'off', spellcheck: 'false' }),
    html: h('textarea', { name: 'html', id: 'tpl-html', rows: '14', class: 'mono', spellcheck: 'false' }),
    text: h('textarea', { name: 'text', id: 'tpl-text', rows: '10', class: 'mono', spellcheck: 'false' }),
  };
  let target = inputs.html; // where a variable goes: the field last in focus
  for (const el of Object.values(inputs)) el.addEventListener('focus', () => { target = el; });
  const state = h('p', { class: 'muted', id: 'tpl-state' });
  const varList = h('div', { class: 'tpl-vars', id: 'tpl-variables' });
  const preview = h('section', { id: 'tpl-preview', class: 'tpl-preview', 'aria-label': t('Preview'), 'aria-live': 'polite' });
  const builtins = new Map(); // kind/language → GET /org/mail-templates/builtin/…
  let overrides = initial.templates || [];
  let variables = null; // kind → [{name, description}]
  let seq = 0; // the newest pick: older answers are dropped

  const form = h('form', { class: 'card stack', id: 'mail-templates' }, h('h2', {}, t('Invitation and mail templates')),
    h('p', { class: 'hint' }, t('Each language has its own text. The editor starts from the template in force: the organisation\'s own, else the one built into roster. Templates use Go template syntax; the preview fills in sample data.')),
    h('div', { class: 'grid2' }, field(t('Mail'), kind), field(t('Language'), lang)), state,
    h('div', { class: 'tpl-editor' },
      h('div', { class: 'stack tpl-fields' }, formError(),
        field(t('Subject'), inputs.subject), field(t('HTML body'), inputs.html), field(t('Text body'), inputs.text)),
      h('aside', { class: 'tpl-side', 'aria-labelledby': 'tpl-variables-title' },
        h('h3', { id: 'tpl-variables-title' }, t('Variables')),
        h('p', { class: 'hint' }, t('Click one to insert it at the cursor.')), varList)),
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'tpl-preview-button', onclick: () => showPreview() }, t('Preview')),
      h('button', { type: 'button', id: 'tpl-reset', class: 'danger', onclick: resetTpl }, t('Reset to built-in')),
      h('button', { type: 'submit', class: 'primary', id: 'tpl-save' }, t('Save template'))),
    preview);

  const current = () => overrides.find((o) => o.kind === kind.value && o.language === lang.value);
  async function builtin(k, l) {
    const key = k + '/' + l;
    if (!builtins.has(key)) builtins.set(key, await api('GET', `/org/mail-templates/builtin/${encodeURIComponent(k)}/${encodeURIComponent(l)}`));
    return builtins.get(key);
  }
  const shipped = (b) => b.from_language === b.language;

  function fill(parts) { for (const p of PARTS) inputs[p].value = parts[p] || ''; }

  // pick shows the template in force for the chosen kind and language.
  async function pick() {
    const my = ++seq;
    clearMessages(form);
    try {
      const [b] = await Promise.all([builtin(kind.value, lang.value), loadVariables()]);
      if (my !== seq) return;
      const o = current();
      // A part the organisation left empty is the built-in one's.
      fill(Object.fromEntries(PARTS.map((p) => [p, (o && o[p]) || b[p]])));
      if (o) state.textContent = t("This organisation's own text, saved {when}.", { when: when(o.updated_at) });
      else if (shipped(b)) state.textContent = t('The built-in template is in force.');
      else state.textContent = t('roster has no built-in template in {language}: the editor starts from the {from} one. Save all three parts to mail in {language}.', { language: lang.value, from: b.from_language });
      showVariables();
      await showPreview(my);
    } catch (e) { if (my === seq) showError(form, e); }
  }

  async function loadVariables() {
    if (!variables) variables = (await api('GET', '/org/mail-templates/variables')).kinds || {};
  }
  function showVariables() {
    clear(varList, h('ul', { class: 'tpl-var-list' }, (variables[kind.value] || []).map((v) =>
      h('li', {}, h('button', { type: 'button', class: 'tpl-var mono', 'data-variable': v.name, title: v.description, onclick: () => insert(v.name) }, `{{.${v.name}}}`),
        h('span', { class: 'hint' }, v.description)))));
  }
  // insert puts a variable at the cursor of the field last in focus.
  function insert(name) {
    const code = name === 'MessageLines' ? '{{range .MessageLines}}{{.}}\n{{end}}' : `{{.${name}}}`;
    const el = target;
    el.focus();
    el.setRangeText(code, el.selectionStart ?? el.value.length, el.selectionEnd ?? el.value.length, 'end');
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }

  // showPreview renders what the editor holds, as it would be sent.
  async function showPreview(my = seq) {
    try {
      const r = await api('POST', '/org/mail-templates/preview', { kind: kind.value, language: lang.value, subject: inputs.subject.value, html: inputs.html.value, text: inputs.text.value });
      if (my !== seq) return;
      // sandbox="" (no allow-scripts, an opaque origin): a script in a
      // template never runs here, nor can the mail reach the console.
      const frame = h('iframe', { sandbox: '', id: 'tpl-preview-frame', title: t('HTML preview of the mail'), class: 'preview-frame', referrerpolicy: 'no-referrer' });
      frame.srcdoc = r.html || '';
      clear(preview, h('h3', {}, t('Preview')),
        h('p', {}, h('strong', {}, t('Subject:')), ' ', h('span', { id: 'tpl-preview-subject' }, r.subject || '')), frame,
        h('h4', {}, t('Text part')), h('pre', { class: 'preview-text', id: 'tpl-preview-text' }, r.text || ''));
    } catch (e) {
      if (my !== seq) return;
      clear(preview, h('p', { class: 'muted', id: 'tpl-preview-none' }, t('No preview: the template has an error.')));
      showError(form, e);
    }
  }

  // parts is what Save sends: in a language roster ships, a part equal to
  // the built-in one is left out (it keeps following roster's text).
  async function parts() {
    const b = await builtin(kind.value, lang.value);
    const out = {};
    for (const p of PARTS) out[p] = shipped(b) && inputs[p].value === b[p] ? '' : inputs[p].value;
    return out;
  }

  async function refresh() { overrides = (await api('GET', '/org/mail-templates')).templates || []; }

  // resetTpl takes back unsaved edits, or deletes the organisation's own
  // template (once confirmed): the built-in one is in force again.
  async function resetTpl() {
    try {
      if (!current()) {
        fill(await builtin(kind.value, lang.value));
        toast(t('The editor shows the built-in template again.'));
        await showPreview();
        return;
      }
      const ok = await confirmDialog(t('Reset to built-in'), t("Delete the organisation's own template for this mail in {language}? Mails use the one built into roster again.", { language: lang.value }), t('Reset'));
      if (!ok) return;
      await api('DELETE', `/org/mail-templates/${kind.value}/${encodeURIComponent(lang.value)}`);
      await refresh();
      await pick();
      toast(t('Built-in template restored.'));
    } catch (e) { showError(form, e); }
  }

  submitted(form, async () => {
    try {
      const body = await parts();
      if (PARTS.every((p) => body[p] === '')) {
        if (current()) { await resetTpl(); return; }
        toast(t('Nothing to save: this is the built-in template.'));
        return;
      }
      await api('PUT', `/org/mail-templates/${kind.value}/${encodeURIComponent(lang.value)}`, body);
      await refresh();
      await pick();
      toast(t('Template saved.'));
    } catch (e) { showError(form, e); }
  });
  kind.addEventListener('change', pick);
  lang.addEventListener('change', pick);
  pick();
  return form;
}
