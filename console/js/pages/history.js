// Configuration history: GET /backoffice/config-history?key=FUNDER/<code>|FUNDING/<product>|BRANCH/<code>|PRODUCT/<code>
// -> {key, items: [{version, operator_id, operator_role, at, before, after}]}, newest first,
// each shown with the differences between its documents.

import { h } from '../dom.js';
import { t, label, fieldLabel } from '../i18n.js';
import { api } from '../api.js';
import { dateTime } from '../format.js';
import { pageTitle, pagedList } from '../ui.js';
import { pathOf } from '../editor.js';

const KINDS = ['FUNDING', 'FUNDER', 'BRANCH', 'PRODUCT'];

function isObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function same(a, b) {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * [{path, before, after, change: added|removed|changed}] between two documents: objects key by
 * key, lists of objects of the same length item by item, anything else (a list that changed
 * its length, order or items' shape) as one row with both values whole.
 */
export function diff(before, after, path = '', rows = []) {
  if (same(before, after)) return rows;
  if (isObject(before) && isObject(after)) {
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])]) {
      diff(before[key], after[key], pathOf(path, key), rows);
    }
  } else if (Array.isArray(before) && Array.isArray(after) && before.length === after.length
      && [...before, ...after].every(isObject)) {
    before.forEach((item, i) => diff(item, after[i], pathOf(path, i), rows));
  } else {
    rows.push({ path, before, after, change: before === undefined ? 'added' : after === undefined ? 'removed' : 'changed' });
  }
  return rows;
}

/** A value shown short: a routing rule without params by its name, lists and objects as JSON. */
function compact(value) {
  if (value === undefined) return '';
  const shorten = (v) => (isObject(v) && typeof v.name === 'string' && Object.keys(v).every((k) => k === 'name' || k === 'params')
    && (!v.params || !Object.keys(v.params).length) ? v.name : v);
  if (Array.isArray(value)) return value.map((v) => JSON.stringify(shorten(v))).join(', ');
  return JSON.stringify(shorten(value));
}

export async function render({ query, navigate }) {
  const [kind = 'FUNDING', ...rest] = (query.key || '').split('/');
  const code = rest.join('/');
  const kindSelect = h('select', { name: 'kind', 'data-testid': 'history-kind' },
    KINDS.map((k) => h('option', { value: k, selected: k === kind }, t(`history.kind.${k}`))));
  const codeInput = h('input', { name: 'code', value: code, 'data-testid': 'history-code', placeholder: t('history.codeHint') });
  const form = h('form.filters', {
    on: { submit: (event) => { event.preventDefault(); navigate('config/history', { key: `${kindSelect.value}/${codeInput.value.trim()}` }); } },
  }, h('label.filter', h('span', t('history.kind')), kindSelect), h('label.filter', h('span', t('history.code')), codeInput),
  h('button.primary', { type: 'submit' }, t('common.search')));
  const head = pageTitle(t('history.title'), query.key ? h('code', query.key) : null,
    code ? h('a', { href: backLink(kind, code) }, t('history.backToEditor')) : null);
  if (!code) return h('div', head, form, h('p.muted', t('history.choose')));
  const list = pagedList(
    (cursor) => api('/backoffice/config-history', { params: { key: `${kind}/${code}`, cursor } }),
    (items) => (items.length
      ? h('ol.history', { 'data-testid': 'history' }, items.map(entry))
      : h('p.empty.muted', { 'data-testid': 'history-empty' }, t('history.empty'))),
  );
  return h('div', head, form, list);
}

function backLink(kind, code) {
  const tab = { FUNDING: 'funding', FUNDER: 'funders', BRANCH: 'quotas', PRODUCT: 'products' }[kind] || 'funding';
  return `#/config?tab=${tab}&code=${encodeURIComponent(code)}`;
}

function lastLabel(path) {
  const last = (path || '').split('.').pop().replace(/\[\d+\]$/, '');
  const text = fieldLabel(last);
  return text === last ? '' : text;
}

function entry(item) {
  const changes = diff(item.before, item.after);
  return h('li.card.history-entry', { 'data-testid': 'history-entry', 'data-version': String(item.version ?? '') },
    h('header',
      h('strong', t('history.version', { version: item.version ?? '—' })), ' ',
      h('span', { 'data-testid': 'history-who' }, item.operator_id || '—'), ' ',
      h('span.muted', label('role', item.operator_role)), ' · ',
      h('span', { 'data-testid': 'history-when' }, dateTime(item.at))),
    changes.length
      ? h('table.data.diff', { 'data-testid': 'history-diff' },
        h('thead', h('tr', h('th', t('history.path')), h('th', t('history.before')), h('th', t('history.after')))),
        h('tbody', changes.map((c) => h(`tr.${c.change}`,
          h('td', h('code', c.path || '—'), ' ', h('span.muted', lastLabel(c.path))),
          h('td.before', c.before === undefined ? '' : h('code', compact(c.before))),
          h('td.after', c.after === undefined ? '' : h('code', compact(c.after)))))))
      : h('p.muted', t('history.noChange')),
    h('details.nested', h('summary', t('history.documents')),
      h('div.grid-2',
        h('div', h('h4', t('history.before')), h('pre.json', JSON.stringify(item.before ?? null, null, 2))),
        h('div', h('h4', t('history.after')), h('pre.json', JSON.stringify(item.after ?? null, null, 2))))));
}
