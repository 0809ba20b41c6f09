// Risk warnings: GET /backoffice/warnings?day=&branch_code=&kind=

import { h } from '../dom.js';
import { t, label } from '../i18n.js';
import { api } from '../api.js';
import { pageTitle, table, filterForm, pagedList, formatValue, badge } from '../ui.js';
import { context } from '../context.js';

const KINDS = ['FIRST_OVERDUE', 'DPD_THRESHOLD', 'CLASS_DOWNGRADE', 'MULTIPLE_OVERDUE_LOANS', 'RECONCILIATION_BREAK'];
const FIRST = ['day', 'business_date', 'kind', 'severity', 'branch_code', 'loan_id', 'customer_id', 'partner_id', 'message'];
const ENUMS = { kind: 'warning', severity: 'severity', from: 'class', to: 'class', loan_class: 'class' };

export async function render({ query, session, navigate }) {
  const operator = session.operator || {};
  const platform = operator.role === 'PLATFORM';
  const branches = platform ? await context.branches(operator) : [];
  const fields = [
    { name: 'day', label: t('field.day'), type: 'date' },
    { name: 'kind', label: t('field.kind'), type: 'select', options: KINDS.map((k) => [k, label('warning', k)]) },
  ];
  if (platform) fields.push({ name: 'branch_code', label: t('field.branch_code'), type: 'select', options: branches.map((b) => [b, label('branch', b)]) });
  const list = pagedList(
    (cursor) => api('/backoffice/warnings', { params: { ...query, cursor } }),
    (items) => {
      const keys = [...new Set(items.flatMap((r) => Object.keys(r)))];
      const ordered = [...FIRST.filter((k) => keys.includes(k)), ...keys.filter((k) => !FIRST.includes(k))];
      return table({
        testid: 'warnings-table',
        rows: items,
        columns: ordered.map((k) => ({
          key: k,
          render: (r) => {
            if (k === 'loan_id' && r.loan_id) return h('a', { href: `#/loans/${encodeURIComponent(r.loan_id)}` }, r.loan_id);
            if (k === 'kind') return badge('warning', r.kind);
            if (k === 'severity') return badge('severity', r.severity);
            if (k === 'branch_code') return label('branch', r.branch_code);
            const v = r[k];
            return v && typeof v === 'object' ? JSON.stringify(v) : formatValue(k, v, ENUMS);
          },
        })),
      });
    },
  );
  return h('div', pageTitle(t('nav.warnings')), filterForm(fields, query, (values) => navigate('warnings', values)), list);
}
