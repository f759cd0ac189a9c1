// Import users from CSV or Excel, or from lines typed into a small grid: a
// dry run first, its report row by row (or only the bad cells), then the
// import of the valid rows on confirmation.
import { t, tn } from './i18n.js';
import { h, clear, api, field, checkbox, formError, showError, toast, onSubmit as submitted } from './dom.js';

// The grid's columns (any other column a file may have too).
const GRID = ['username', 'email', 'first_name', 'last_name', 'role'];

// csvLine is one CSV record (RFC 4180 quoting).
function csvLine(cells) {
  return cells.map((c) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',') + '\r\n';
}

export async function importView(root) {
  const file = h('input', { type: 'file', name: 'file', id: 'import-file', accept: '.csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', required: true });
  // The file is read into memory when checked: the import then sends the
  // very bytes the dry run checked. A file changed, moved or replaced on
  // disk since it was picked cannot be read any more (the browser's upload
  // then failed with "Failed to fetch"); that says so in words. The input is
  // emptied on each click, so picking the same (edited) file again is a new
  // pick.
  file.addEventListener('click', () => { file.value = ''; });
  async function readPicked() {
    const f = file.files[0];
    if (!f) return null;
    try {
      return { name: f.name, blob: new Blob([await f.arrayBuffer()], { type: f.type }) };
    } catch {
      file.value = '';
      throw Object.assign(new Error(t('{name} changed or moved since it was picked; pick it again.', { name: f.name })), { field: 'file' });
    }
  }
  // Lines typed in by hand, a row per user; "+" adds one.
  const gridBody = h('tbody', {});
  const addLine = () => {
    const n = gridBody.children.length + 1;
    const tr = h('tr', { 'data-row': String(n) },
      GRID.map((c) => h('td', {}, h('input', { name: c, 'data-col': c, 'aria-label': t('Line {line}, {column}', { line: n + 1, column: c }), autocomplete: 'off' }))),
      h('td', {}, h('button', { type: 'button', class: 'icon', 'aria-label': t('Remove line {line}', { line: n + 1 }), onclick: () => { tr.remove(); } }, '−')));
    gridBody.append(tr);
    return tr;
  };
  addLine();
  const grid = h('div', { class: 'stack', id: 'import-grid', hidden: true },
    h('div', { class: 'table-wrap' }, h('table', { id: 'import-grid-table' },
      h('caption', { class: 'sr-only' }, t('Users to import, a line each')),
      h('thead', {}, h('tr', {}, GRID.map((c) => h('th', { scope: 'col' }, c)), h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, t('Remove'))))),
      gridBody)),
    h('div', { class: 'buttons' }, h('button', { type: 'button', id: 'import-add-line', onclick: () => addLine().querySelector('input').focus() },
      h('span', { 'aria-hidden': 'true' }, '+ '), t('Add a line'))));
  const fromFile = h('input', { type: 'radio', name: 'import_source', value: 'file', id: 'import-from-file', checked: true });
  const fromGrid = h('input', { type: 'radio', name: 'import_source', value: 'grid', id: 'import-from-grid' });
  const fileField = field(t('CSV or Excel file'), file, t('The first row names the columns: username (required), email, first_name, last_name, phone, language, role, can_create_apps, set_admin (or set_as_admin), metadata.NAME; a file from Export imports back as it is.'));
  for (const r of [fromFile, fromGrid]) {
    r.addEventListener('change', () => { fileField.hidden = fromGrid.checked; file.required = fromFile.checked; grid.hidden = !fromGrid.checked; });
  }
  // The grid's lines as a CSV file (the header is the grid's columns; empty lines are left out).
  function gridFile() {
    const lines = [...gridBody.querySelectorAll('tr')].map((tr) => GRID.map((c) => tr.querySelector(`[data-col=${c}]`).value.trim()))
      .filter((cells) => cells.some((c) => c !== ''));
    if (!lines.length) return null;
    return { name: 'lines.csv', blob: new Blob([csvLine(GRID), ...lines.map(csvLine)], { type: 'text/csv' }) };
  }
  const [mailWrap, mail] = checkbox(t('Mail the invitations'), { name: 'send_invite', id: 'import-send', checked: true });
  const report = h('section', { id: 'import-report', 'aria-live': 'polite' });
  const form = h('form', { class: 'card stack', id: 'import-form', novalidate: true }, formError(),
    h('fieldset', { class: 'inline' }, h('legend', {}, t('The users to import')),
      h('div', { class: 'check' }, fromFile, h('label', { for: 'import-from-file' }, t('From a file'))),
      h('div', { class: 'check' }, fromGrid, h('label', { for: 'import-from-grid' }, t('Typed in')))),
    fileField, grid,
    mailWrap,
    h('button', { type: 'submit', class: 'primary', id: 'import-check' }, t('Check the file (dry run)')));
  clear(root, h('div', { class: 'page-head' }, h('h1', {}, t('Import users'))), form, report);

  let sent = null; // what the dry run checked: the import sends the same
  async function send(dryRun) {
    const fd = new FormData();
    fd.append('file', sent.blob, sent.name);
    return api('POST', `/users/import?dry_run=${dryRun}&send_invite=${mail.checked}`, fd);
  }

  submitted(form, async () => {
    clear(report);
    try {
      sent = fromGrid.checked ? gridFile() : await readPicked();
      if (!sent) {
        showError(form, fromGrid.checked ? { message: t('Type at least one line first.'), field: 'username' } : { message: t('Choose a file first.'), field: 'file' });
        return;
      }
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
    const bad = (r.rows || []).filter((row) => row.outcome === 'invalid');
    const [onlyWrap, only] = checkbox(t('Show only the errors'), { id: 'import-errors-only', checked: bad.length > 0 && r.dry_run });
    const all = h('div', { class: 'table-wrap', id: 'import-all' }, h('table', { id: 'import-rows' },
      h('thead', {}, h('tr', {}, [t('Line'), t('Username'), t('Outcome'), t('Problem')].map((label) => h('th', { scope: 'col' }, label)))),
      h('tbody', {}, (r.rows || []).map((row) => h('tr', { class: row.outcome === 'invalid' ? 'bad' : 'ok', 'data-line': row.line },
        h('td', {}, String(row.line)), h('td', {}, row.username || ''),
        h('td', {}, h('span', { class: `badge outcome-${row.outcome}` }, outcomeLabel(row.outcome))),
        h('td', {}, problem(row.error)))))));
    // Only the bad cells: line, column and what is wrong.
    const errors = h('div', { class: 'table-wrap', id: 'import-errors-view' }, h('table', { id: 'import-errors' },
      h('caption', { class: 'sr-only' }, t('The cells with errors')),
      h('thead', {}, h('tr', {}, [t('Line'), t('Column'), t('What is wrong')].map((label) => h('th', { scope: 'col' }, label)))),
      h('tbody', {}, bad.map((row) => {
        const e = row.error || {};
        return h('tr', { 'data-line': row.line, 'data-column': e.field || '' },
          h('td', {}, String(row.line)), h('td', {}, e.field || '—'), h('td', {}, e.message || ''));
      }))));
    const show = () => { all.hidden = only.checked; errors.hidden = !only.checked; };
    only.addEventListener('change', show);
    show();
    clear(report,
      h('h2', {}, r.dry_run ? t('Dry run: nothing was written yet') : t('Import done')),
      h('p', { id: 'import-summary' }, r.dry_run ? t('{total} rows: {ok} valid, {failed} with errors.', { total: r.total, ok: r.ok, failed: r.failed }) : t('{total} rows: {ok} created, {failed} with errors.', { total: r.total, ok: r.ok, failed: r.failed })),
      confirm,
      bad.length ? onlyWrap : null, all, errors);
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
