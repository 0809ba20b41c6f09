// Shared pieces of the pages: tables, filters, pagers, badges, key-value lists, errors.

import { h, replace } from './dom.js';
import { t, label, fieldLabel } from './i18n.js';
import { yuan, dateTime, looksLikeMoney, isTimestampKey, percent } from './format.js';

// Which enumeration a field's codes belong to (their labels are "<kind>.<CODE>" in the dictionaries).
export const ENUM_KEYS = {
  status: 'status',
  outcome: 'outcome',
  loan_class: 'class',
  role: 'role',
  operator_role: 'role',
  purpose: 'purpose',
  occupation: 'occupation',
  education: 'education',
  marital_status: 'marital',
  repayment_method: 'method',
  id_type: 'idType',
  mode: 'mode',
  classification: 'recon',
  severity: 'severity',
  reasons: 'reason',
  txn_type: 'txnType',
};

const RATE_KEYS = /(^|_)(rate|approval_rate)$/;

/** A scalar value formatted by its field name: money, times, enumerations, booleans, rates. */
export function formatValue(key, value, enums = {}) {
  if (value === null || value === undefined || value === '') return '—';
  if (typeof value === 'boolean') return value ? t('common.yes') : t('common.no');
  const enumKind = enums[key] || ENUM_KEYS[key];
  if (enumKind && typeof value === 'string') return label(enumKind, value);
  if (looksLikeMoney(key, value)) return yuan(value);
  if (isTimestampKey(key, value)) return dateTime(value);
  if (typeof value === 'string' && RATE_KEYS.test(key) && /^\d+\.\d+$/.test(value)) return percent(value);
  return String(value);
}

export function badge(kind, code) {
  if (code === null || code === undefined) return h('span.muted', '—');
  return h(`span.badge.badge-${String(code).toLowerCase().replace(/[^a-z0-9]+/g, '-')}`, { 'data-code': code }, label(kind, code));
}

export function loading() {
  return h('p.loading.muted', t('common.loading'));
}

export function errorBox(error) {
  const known = error && error.code && t(`error.${error.code}`) !== `error.${error.code}` ? t(`error.${error.code}`) : null;
  const status = error && error.status ? ` (${error.status})` : '';
  return h('div.error', { role: 'alert' },
    h('strong', known || (error && error.message) || String(error)),
    h('span.muted', `${error && error.code ? ' ' + error.code : ''}${status}`),
    error && error.details && error.details.length
      ? h('ul', error.details.map((d) => h('li', h('code', d.field || ''), ' ', d.message || '')))
      : null);
}

export function section(title, ...children) {
  return h('section.card', h('h2', title), ...children);
}

/** columns: [{key, label, render(row) | undefined, className}]; rows: objects. */
export function table({ columns, rows, onRow, empty, testid, rowKey }) {
  if (!rows || !rows.length) return h('p.empty.muted', empty || t('common.empty'));
  return h('div.table-wrap', h('table.data', { 'data-testid': testid },
    h('thead', h('tr', columns.map((c) => h('th', { class: c.className }, c.label ?? fieldLabel(c.key))))),
    h('tbody', rows.map((row) => h('tr', {
      class: onRow ? 'clickable' : null,
      dataset: rowKey ? { key: row[rowKey] } : undefined,
      on: onRow ? { click: (event) => { if (!event.target.closest('a,button')) onRow(row); } } : undefined,
    }, columns.map((c) => h('td', { class: c.className }, c.render ? c.render(row) : formatValue(c.key, row[c.key]))))))));
}

/** A filter form: fields [{name, label, type: text|select|date, options: [[value, label]]}]. */
export function filterForm(fields, values, onSubmit) {
  const form = h('form.filters', { 'data-testid': 'filters' });
  for (const field of fields) {
    let input;
    if (field.type === 'select') {
      input = h('select', { name: field.name },
        h('option', { value: '' }, t('common.all')),
        field.options.map(([value, text]) => h('option', { value, selected: values[field.name] === value }, text)));
    } else {
      input = h('input', {
        name: field.name, type: field.type || 'text', value: values[field.name] || '',
        placeholder: field.placeholder || '', list: field.list || null,
      });
    }
    form.append(h('label.filter', h('span', field.label), input));
  }
  form.append(h('button.primary', { type: 'submit' }, t('common.search')));
  form.append(h('button', { type: 'button', on: { click: () => onSubmit({}) } }, t('common.reset')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = {};
    for (const [key, value] of new FormData(form).entries()) if (value !== '') data[key] = String(value).trim();
    onSubmit(data);
  });
  return form;
}

/**
 * A list with cursor paging: load(cursor) answers {items, next_cursor}; render(items) the table.
 * "Next page" follows next_cursor; "previous" and "first" go back through the cursors seen.
 */
export function pagedList(load, render) {
  const holder = h('div.paged');
  const cursors = [null];
  let index = 0;
  async function show() {
    replace(holder, loading());
    let answer;
    try {
      answer = await load(cursors[index]);
    } catch (error) {
      replace(holder, errorBox(error));
      return;
    }
    const next = answer.next_cursor || null;
    if (next && cursors.length === index + 1) cursors.push(next);
    const pager = h('div.pager',
      h('button', { type: 'button', disabled: index === 0, 'data-testid': 'prev-page', on: { click: () => { index -= 1; show(); } } }, t('common.previousPage')),
      h('span.muted', t('common.page', { page: index + 1 })),
      h('button', { type: 'button', disabled: !next, 'data-testid': 'next-page', on: { click: () => { cursors[index + 1] = next; cursors.length = index + 2; index += 1; show(); } } }, t('common.nextPage')));
    replace(holder, render(answer.items || [], answer), pager);
  }
  show();
  return holder;
}

/** Scalars of an object as a definition list (nested objects and lists are left to valueView). */
export function keyValues(object, { keys, enums = {}, skip = [], context } = {}) {
  const names = keys || Object.keys(object || {}).filter((k) => !skip.includes(k) && !isComposite(object[k]));
  return h('dl.kv', names.map((name) => [
    h('dt', fieldLabel(name, context)),
    h('dd', { 'data-field': name }, formatValue(name, object ? object[name] : null, enums)),
  ]));
}

function isComposite(value) {
  return value !== null && typeof value === 'object';
}

/** Any JSON value rendered readably: objects as key-value lists, lists of objects as tables. */
export function valueView(value, key = '', enums = {}) {
  if (!isComposite(value)) return h('span', formatValue(key, value, enums));
  if (Array.isArray(value)) {
    if (!value.length) return h('span.muted', t('common.empty'));
    if (value.every((v) => v && typeof v === 'object' && !Array.isArray(v))) {
      const columns = [...new Set(value.flatMap((v) => Object.keys(v)))].map((k) => ({
        key: k,
        render: (row) => (isComposite(row[k]) ? valueView(row[k], k, enums) : formatValue(k, row[k], enums)),
      }));
      return table({ columns, rows: value });
    }
    if (value.every((v) => !isComposite(v))) return h('span', value.map((v) => formatValue(key, v, enums)).join(', '));
    return h('ol.plain', value.map((v) => h('li', valueView(v, key, enums))));
  }
  const scalars = Object.keys(value).filter((k) => !isComposite(value[k]));
  const composites = Object.keys(value).filter((k) => isComposite(value[k]));
  return h('div.value',
    scalars.length ? keyValues(value, { keys: scalars, enums, context: key }) : null,
    composites.map((k) => h('details.nested', { open: true }, h('summary', fieldLabel(k, key)), valueView(value[k], k, enums))));
}

export function pageTitle(text, ...extra) {
  return h('div.page-head', h('h1', text), ...extra);
}

export function link(href, text, attrs = {}) {
  return h('a', { href, ...attrs }, text);
}
