// The console's words in the languages roster mails in. t() takes the English
// sentence as its key (gettext style) and fills {name} placeholders from vars:
//   t('Role changed from {from} to {to}', { from: 'Member', to: 'Admin' })
// tn() picks the singular or plural sentence for vars.count:
//   tn('{count} user imported.', '{count} users imported.', n)
// The language comes from the browser (navigator.languages), overridden by
// the switcher (remembered in localStorage); a sentence the catalog lacks, or
// a catalog that cannot be loaded, shows in English. Every key is an
// English literal at its call: console/i18n_catalog_test.go checks the
// catalogs (console/static/i18n/LANG.json) against them.

export const LANGUAGE_NAMES = { en: 'English', de: 'Deutsch', fr: 'Français', es: 'Español' };
const STORE_KEY = 'roster.console.language';

let catalog = {};
let lang = 'en';

function fill(s, vars) {
  if (!vars) return s;
  return s.replace(/\{([a-z_][a-z0-9_]*)\}/gi, (m, k) => {
    if (!Object.prototype.hasOwnProperty.call(vars, k)) return m;
    const v = vars[k];
    return typeof v === 'number' ? formatNumber(v) : String(v);
  });
}

export function t(msg, vars) {
  return fill(Object.prototype.hasOwnProperty.call(catalog, msg) ? catalog[msg] : msg, vars);
}

// tn is t for a sentence with a count: one is the English singular, other
// the plural; the language's plural rules choose (French says "0 utilisateur").
export function tn(one, other, count, vars) {
  const form = new Intl.PluralRules(lang).select(count) === 'one' ? one : other;
  return t(form, { ...vars, count });
}

// setCatalog installs the sentences of one language (English → translation).
export function setCatalog(c) { catalog = c || {}; }

export function language() { return lang; }

export function formatNumber(n) { return new Intl.NumberFormat(lang).format(n); }

export function formatDecimal(n, digits) {
  return new Intl.NumberFormat(lang, { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(n);
}

export function formatDate(d) {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

// chosenLanguage is the switcher's choice, else the first of the browser's
// languages the console speaks, else English.
export function chosenLanguage() {
  let saved = '';
  try { saved = localStorage.getItem(STORE_KEY) || ''; } catch { /* storage may be off */ }
  if (saved in LANGUAGE_NAMES) return saved;
  for (const l of navigator.languages || [navigator.language || '']) {
    const base = String(l).toLowerCase().split('-')[0];
    if (base in LANGUAGE_NAMES) return base;
  }
  return 'en';
}

// loadLanguage fetches the catalog of l and makes l the console's language;
// on any failure the console stays in English.
export async function loadLanguage(l) {
  let c = {};
  let got = 'en';
  if (l !== 'en' && l in LANGUAGE_NAMES) {
    try {
      const res = await fetch(`/console/static/i18n/${l}.json`, { credentials: 'same-origin' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      c = await res.json();
      got = l;
    } catch (e) {
      console.warn(`roster console: the ${l} catalog could not be loaded (${e.message}); showing English`);
      c = {};
    }
  }
  setCatalog(c);
  lang = got;
  document.documentElement.lang = got;
  return got;
}

// saveLanguage remembers the switcher's choice for the next loads.
export function saveLanguage(l) {
  try { localStorage.setItem(STORE_KEY, l); } catch { /* storage may be off */ }
}
