// Import users from CSV or Excel: a dry run first, its report row by row,
// then the import of the valid rows on confirmation.
import { t, tn } from './i18n.js';
import { h, clear, api, field, checkbox, formError, showError, toast, onSubmit as submitted } from './dom.js';

export async function importView(root) {
  const file = h('input', { type: 'file', name: 'file', id: 'import-file', accept: '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', required: true });
  const [mailWrap, mail] = checkbox(t('Mail the invitations'), { name: 'send_invite', id: 'import-send', checked: true });
  const report = h('section', { id: 'import-report', 'aria-live': 'polite' });
  const form = h('form', { class: 'card stack', id: 'import-form' }, formError(),
    field(t('CSV or Excel file'), file, t('The first row names the columns: username (required), email, first_name, last_name, phone, language, role, can_create_apps, set_admin (or set_as_admin), metadata.NAME; a file from Export imports back as it is.')),
    mailWrap,
    h('button', { type: 'submit', class: 'primary', id: 'import-check' }, t('Check the file (dry run)')));
  clear(root, h('div', { class: 'page-head' }, h('h1', {}, t('Import users'))), form, report);

  async function send(dryRun) {
    const fd = new FormData();
    fd.append('file', file.files[0]);
    return api('POST', `/users/import?dry_run=${dryRun}&send_invite=${mail.checked}`, fd);
  }

  submitted(form, async () => {
    clear(report);
    if (!file.files.length) { showError(form, { message: t('Choose a file first.'), field: 'file' }); return; }
    try {
      const r = await send(true);
      form.querySelector('.form-error').hidden = true;
      renderReport(r);
    } catch (e) { showError(form, e); }
  });

  function renderReport(r) {
    const confirm = r.dry_run && r.ok > 0
      ? h('button', { type: 'button', class: 'primary', id: 'import-confirm', onclick: async (ev) => {
        ev.target.disabled = true;
        try { const done = await send(false); renderReport(done); toast(tn('{count} user imported.', '{count} users imported.', done.ok)); } catch (e) { clear(report, h('p', { class: 'error action-message', role: 'alert' }, e.message)); }
      } }, tn('Import the valid row', 'Import the {count} valid rows', r.ok))
      : null;
    clear(report,
      h('h2', {}, r.dry_run ? t('Dry run: nothing was written yet') : t('Import done')),
      h('p', { id: 'import-summary' }, r.dry_run ? t('{total} rows: {ok} valid, {failed} with errors.', { total: r.total, ok: r.ok, failed: r.failed }) : t('{total} rows: {ok} created, {failed} with errors.', { total: r.total, ok: r.ok, failed: r.failed })),
      confirm,
      h('div', { class: 'table-wrap' }, h('table', { id: 'import-rows' },
        h('thead', {}, h('tr', {}, [t('Line'), t('Username'), t('Outcome'), t('Problem')].map((label) => h('th', { scope: 'col' }, label)))),
        h('tbody', {}, (r.rows || []).map((row) => h('tr', { class: row.outcome === 'invalid' ? 'bad' : 'ok', 'data-line': row.line },
          h('td', {}, String(row.line)), h('td', {}, row.username || ''),
          h('td', {}, h('span', { class: `badge outcome-${row.outcome}` }, outcomeLabel(row.outcome))),
          h('td', {}, problem(row.error))))))));
  }
}

function outcomeLabel(o) {
  return { created: t('created'), valid: t('valid'), invalid: t('invalid') }[o] || o;
}

function problem(body) {
  const e = body && (body.error || body);
  if (!e || !e.message) return '';
  return e.field && !e.message.includes(e.field) ? `${e.field}: ${e.message}` : e.message;
}
