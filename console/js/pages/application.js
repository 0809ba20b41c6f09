// Application detail: GET /backoffice/applications/{id}: whatever fields come, the timeline as a
// list, the decision, the trails, the documents, the applicant (masked by the API).

import { h } from '../dom.js';
import { t, label, fieldLabel } from '../i18n.js';
import { api } from '../api.js';
import { dateTime } from '../format.js';
import { pageTitle, section, table, keyValues, valueView, badge, formatValue } from '../ui.js';

const SHOWN_FIRST = ['timeline', 'application', 'applicant', 'decision', 'documents'];
// Codes in the trails: rule codes and reasons are translated (the code stays in the tooltip of the queue).
const DETAIL_ENUMS = { code: 'reason', outcome: 'outcome' };

export async function render({ params }) {
  const detail = await api(`/backoffice/applications/${encodeURIComponent(params.id)}`);
  const status = detail.status || (detail.application || {}).status;
  const composites = Object.keys(detail).filter((k) => detail[k] !== null && typeof detail[k] === 'object');
  const rest = composites.filter((k) => !SHOWN_FIRST.includes(k));
  return h('div.application-detail', { 'data-testid': 'application-detail', 'data-application-id': params.id },
    pageTitle(t('application.title'), h('code', detail.application_id || params.id),
      h('span', { 'data-testid': 'application-status', 'data-status': status || '' }, badge('status', status))),
    section(t('application.summary'), keyValues(detail)),
    h('div.grid-2',
      section(t('application.timeline'), timeline(detail.timeline)),
      h('div',
        detail.decision ? section(fieldLabel('decision'), valueView(detail.decision, 'decision')) : null,
        detail.applicant ? section(fieldLabel('applicant'), valueView(detail.applicant, 'applicant')) : null)),
    detail.application ? section(fieldLabel('application'), valueView(detail.application, 'application')) : null,
    section(t('application.documents'), documents(detail.documents)),
    rest.map((key) => h('section.card',
      h('details.nested', { open: !/trail|score/i.test(key) }, h('summary', h('h2.inline', fieldLabel(key))), valueView(detail[key], key, DETAIL_ENUMS)))));
}

const TIME_KEYS = ['at', 'time', 'timestamp', 'created_at', 'updated_at'];

/** Entries {at, kind: STATUS|DECISION|MANUAL_REVIEW|ROUTING|ANSWER|CONTRACT_SIGNED|DISBURSED|..., ...}. */
function timeline(entries) {
  if (!entries || !entries.length) return h('p.muted', t('common.empty'));
  return h('ol.timeline', { 'data-testid': 'timeline' }, entries.map((entry) => {
    if (!entry || typeof entry !== 'object') return h('li', String(entry));
    const timeKey = TIME_KEYS.find((k) => entry[k]);
    const kind = entry.kind || (entry.status ? 'STATUS' : null);
    const isStatus = kind === 'STATUS' && entry.status;
    const extra = Object.entries(entry).filter(([k, v]) => k !== timeKey && k !== 'kind' && !(isStatus && k === 'status')
      && v !== null && v !== undefined && v !== '' && !(Array.isArray(v) && !v.length));
    return h('li', { 'data-kind': kind || '', 'data-status': isStatus ? entry.status : null },
      h('span.when', dateTime(timeKey ? entry[timeKey] : null)),
      h('span.what', isStatus ? badge('status', entry.status) : h('strong', label('event', kind))),
      h('span.extra', extra.map(([k, v]) => h('span.pair', h('span.muted', `${fieldLabel(k)}: `), timelineValue(k, v)))));
  }));
}

function timelineValue(key, value) {
  if (key === 'reasons' && Array.isArray(value)) return value.map((r) => label('reason', r)).join('、');
  if (key === 'loan_id') return h('a', { href: `#/loans/${encodeURIComponent(value)}` }, value);
  if (key === 'sha256') return h('code.hash', { title: value }, `${String(value).slice(0, 12)}…`);
  if (value && typeof value === 'object') return JSON.stringify(value);
  return formatValue(key, value);
}

function documents(list) {
  if (!list || !list.length) return h('p.muted', t('common.empty'));
  return table({
    testid: 'documents',
    rows: list,
    columns: [
      { key: 'kind', render: (r) => label('document', r.kind) },
      { key: 'key', render: (r) => h('code', r.key) },
      { key: 'sha256', render: (r) => h('code.hash', { title: r.sha256 }, r.sha256) },
      ...Object.keys(list[0]).filter((k) => !['kind', 'key', 'sha256'].includes(k)).map((k) => ({ key: k })),
    ],
  });
}
