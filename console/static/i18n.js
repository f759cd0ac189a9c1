// The console's words in the languages roster mails in. t() takes the English
// sentence as its key (gettext style) and fills {name} placeholders from vars:
//   t('Role changed from {from} to {to}', { from: 'Member', to: 'Admin' })
// Until a language's catalog is loaded, or for a sentence it lacks, the
// English text is shown.

let catalog = {};

export function t(msg, vars) {
  const s = Object.prototype.hasOwnProperty.call(catalog, msg) ? catalog[msg] : msg;
  if (!vars) return s;
  return s.replace(/\{([a-z_][a-z0-9_]*)\}/gi, (m, k) => (Object.prototype.hasOwnProperty.call(vars, k) ? String(vars[k]) : m));
}

// setCatalog installs the sentences of one language (English → translation).
export function setCatalog(c) { catalog = c || {}; }
