// The page's strings in its language: Django's JSON catalogue (/jsi18n/, djangojs domain),
// fetched once. `await ready` before the first string; untranslated strings stay as written.

const lang = document.documentElement.lang || "en";
let catalog = {};

export const ready = fetch(document.documentElement.dataset.catalog || "/jsi18n/", { credentials: "same-origin" })
  .then((response) => (response.ok ? response.json() : { catalog: {} }))
  .then((body) => (catalog = body.catalog || {}))
  .catch(() => {});

// French counts 0 and 1 as singular, English only 1.
function pluralIndex(count) {
  return lang.startsWith("fr") ? Number(count > 1) : Number(count !== 1);
}

export function gettext(text) {
  const found = catalog[text];
  if (found === undefined) return text;
  return Array.isArray(found) ? found[0] : found;
}

export function ngettext(one, many, count) {
  const found = catalog[one];
  const index = pluralIndex(count);
  if (found === undefined) return index ? many : one;
  return Array.isArray(found) ? found[index] ?? found[found.length - 1] : found;
}

// "%(name)s" placeholders, as Django's interpolate(…, named=true).
export function interpolate(text, values) {
  return text.replace(/%\((\w+)\)s/g, (_match, name) => String(values[name]));
}
