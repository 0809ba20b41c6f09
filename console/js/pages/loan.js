// Loan detail: GET /backoffice/loans/{id} -> {loan, schedule, postings, postings_next_cursor,
// class_history, collection_case}; more postings: GET /backoffice/loans/{id}/postings?cursor=.

import { h } from '../dom.js';
import { t, label, fieldLabel } from '../i18n.js';
import { api } from '../api.js';
import { count } from '../format.js';
import { pageTitle, section, table, keyValues, valueView, badge, pagedList } from '../ui.js';

const LOAN_ENUMS = { status: 'loanStatus', classification: 'class', loan_class: 'class' };
const SCHEDULE_ENUMS = { status: 'installment', state: 'installment' };
const POSTING_ENUMS = { side: 'side', kind: 'postingKind' };
const KNOWN = ['loan', 'schedule', 'postings', 'postings_next_cursor', 'class_history', 'collection_case'];

export async function render({ params }) {
  const id = encodeURIComponent(params.id);
  const detail = await api(`/backoffice/loans/${id}`);
  const loan = detail.loan || {};
  const others = Object.keys(detail).filter((k) => !KNOWN.includes(k));
  let first = { items: detail.postings || [], next_cursor: detail.postings_next_cursor || null };
  const postings = pagedList(
    async (cursor) => {
      if (!cursor && first) { const page = first; first = null; return page; }
      return api(`/backoffice/loans/${id}/postings`, { params: { cursor } });
    },
    (items) => h('div', { 'data-testid': 'postings' }, valueView(items, 'postings', POSTING_ENUMS)),
  );
  const nested = Object.keys(loan).filter((k) => loan[k] && typeof loan[k] === 'object');
  return h('div.loan-detail', { 'data-testid': 'loan-detail' },
    pageTitle(t('loan.title'), h('code', loan.loan_id || params.id), badge('loanStatus', loan.status), badge('class', loan.loan_class),
      loan.application_id ? h('a', { href: `#/applications/${encodeURIComponent(loan.application_id)}` }, t('loan.application')) : null),
    h('div.grid-2',
      section(t('loan.summary'), keyValues(loan, { enums: LOAN_ENUMS })),
      h('div', nested.map((k) => section(fieldLabel(k), valueView(loan[k], k, LOAN_ENUMS))))),
    section(t('loan.schedule'), h('div', { 'data-testid': 'schedule' }, valueView(detail.schedule || [], 'schedule', SCHEDULE_ENUMS))),
    h('div.grid-2',
      section(t('loan.classHistory'), classHistory(detail.class_history)),
      section(t('loan.collectionCase'), detail.collection_case ? valueView(detail.collection_case, 'collection_case', LOAN_ENUMS) : h('p.muted', t('loan.noCase')))),
    section(t('loan.postings'), postings),
    others.map((k) => section(fieldLabel(k), valueView(detail[k], k))));
}

function classHistory(rows) {
  if (!rows || !rows.length) return h('p.muted', t('common.empty'));
  const asObjects = rows.map((r) => (Array.isArray(r) ? { day: r[0], from_class: r[1], to_class: r[2], days_past_due: r[3] } : r));
  return table({
    testid: 'class-history',
    rows: asObjects,
    columns: [
      { key: 'day', render: (r) => r.day || r.business_date || '—' },
      { key: 'from', render: (r) => label('class', r.from_class ?? r.from) },
      { key: 'to', render: (r) => label('class', r.to_class ?? r.to) },
      { key: 'days_past_due', className: 'num', render: (r) => count(r.days_past_due ?? r.dpd) },
    ],
  });
}
