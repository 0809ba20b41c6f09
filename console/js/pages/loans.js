// Loans: GET /backoffice/loans?branch_code=&loan_class=&status=&cursor=

import { h } from '../dom.js';
import { t, label } from '../i18n.js';
import { api } from '../api.js';
import { yuan, count } from '../format.js';
import { pageTitle, table, filterForm, pagedList, badge } from '../ui.js';
import { context } from '../context.js';

export const LOAN_CLASSES = ['NORMAL', 'SPECIAL_MENTION', 'SUBSTANDARD', 'DOUBTFUL', 'LOSS'];
export const LOAN_STATUSES = ['DISBURSING', 'ACTIVE', 'SETTLED', 'VOID'];

export async function render({ query, session, navigate }) {
  const operator = session.operator || {};
  const platform = operator.role === 'PLATFORM';
  const branches = platform ? await context.branches(operator) : [];
  const fields = [
    { name: 'loan_class', label: t('field.loan_class'), type: 'select', options: LOAN_CLASSES.map((c) => [c, label('class', c)]) },
    { name: 'status', label: t('field.status'), type: 'select', options: LOAN_STATUSES.map((s) => [s, label('loanStatus', s)]) },
  ];
  if (platform) fields.unshift({ name: 'branch_code', label: t('field.branch_code'), type: 'select', options: branches.map((b) => [b, label('branch', b)]) });
  const list = pagedList(
    (cursor) => api('/backoffice/loans', { params: { ...query, cursor } }),
    (items) => table({
      testid: 'loans-table',
      rowKey: 'loan_id',
      rows: items,
      onRow: (row) => navigate(`loans/${encodeURIComponent(row.loan_id)}`),
      columns: [
        { key: 'loan_id', render: (r) => h('a', { href: `#/loans/${encodeURIComponent(r.loan_id)}` }, r.loan_id) },
        { key: 'application_id', render: (r) => h('a', { href: `#/applications/${encodeURIComponent(r.application_id)}` }, r.application_id) },
        { key: 'branch_code', render: (r) => label('branch', r.branch_code) },
        { key: 'partner_id', render: (r) => label('partner', r.partner_id) },
        { key: 'amount', className: 'num', render: (r) => yuan(r.amount) },
        { key: 'outstanding_principal', className: 'num', render: (r) => yuan(r.outstanding_principal) },
        { key: 'status', render: (r) => badge('loanStatus', r.status) },
        { key: 'loan_class', render: (r) => badge('class', r.loan_class) },
        { key: 'days_past_due', className: 'num', render: (r) => count(r.days_past_due) },
        { key: 'start_date' },
      ],
    }),
  );
  return h('div', pageTitle(t('nav.loans')), filterForm(fields, query, (values) => navigate('loans', values)), list);
}
