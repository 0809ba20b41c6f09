// Collections: GET /backoffice/collections?branch_code=&queue=&stage= -> the open cases.

import { h } from '../dom.js';
import { t, label } from '../i18n.js';
import { api } from '../api.js';
import { pageTitle, table, filterForm, pagedList, formatValue, badge } from '../ui.js';
import { context } from '../context.js';

const STAGES = ['M1', 'M2', 'M3', 'M3+'];
const FIRST = ['case_id', 'loan_id', 'branch_code', 'queue', 'stage', 'days_past_due', 'overdue_amount', 'outstanding_principal', 'opened_on', 'updated_at'];

export async function render({ query, session, navigate }) {
  const operator = session.operator || {};
  const platform = operator.role === 'PLATFORM';
  const branches = platform ? await context.branches(operator) : [];
  const fields = [
    { name: 'queue', label: t('field.queue') },
    { name: 'stage', label: t('field.stage'), type: 'select', options: STAGES.map((s) => [s, label('stage', s)]) },
  ];
  if (platform) fields.unshift({ name: 'branch_code', label: t('field.branch_code'), type: 'select', options: branches.map((b) => [b, label('branch', b)]) });
  const list = pagedList(
    (cursor) => api('/backoffice/collections', { params: { ...query, cursor } }),
    (items) => table({
      testid: 'collections-table',
      rows: items,
      columns: columnsOf(items),
    }),
  );
  return h('div', pageTitle(t('nav.collections')), filterForm(fields, query, (values) => navigate('collections', values)), list);
}

function columnsOf(items) {
  const keys = [...new Set(items.flatMap((r) => Object.keys(r)))];
  const ordered = [...FIRST.filter((k) => keys.includes(k)), ...keys.filter((k) => !FIRST.includes(k))];
  return ordered.map((k) => ({
    key: k,
    render: (r) => {
      if (k === 'loan_id' && r.loan_id) return h('a', { href: `#/loans/${encodeURIComponent(r.loan_id)}` }, r.loan_id);
      if (k === 'stage') return badge('stage', r.stage);
      if (k === 'branch_code') return label('branch', r.branch_code);
      const v = r[k];
      return v && typeof v === 'object' ? JSON.stringify(v) : formatValue(k, v);
    },
  }));
}
