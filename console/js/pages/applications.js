// Application search: GET /backoffice/applications?status=&partner_id=&branch_code=&q=&limit=&cursor=

import { h } from '../dom.js';
import { t, label } from '../i18n.js';
import { api } from '../api.js';
import { yuan, dateTime } from '../format.js';
import { pageTitle, table, filterForm, pagedList, badge } from '../ui.js';
import { context } from '../context.js';

export const STATUSES = ['RECEIVED', 'REVIEWING', 'MANUAL_REVIEW', 'REJECTED', 'ROUTING', 'NO_FUNDER', 'OFFERED', 'SIGNING',
  'DISBURSING', 'DISBURSED', 'DISBURSEMENT_FAILED', 'EXPIRED', 'CANCELLED'];
const PAGE_SIZE = 20;

export async function render({ query, session, navigate }) {
  const operator = session.operator || {};
  const platform = operator.role === 'PLATFORM';
  const branches = platform ? await context.branches(operator) : [];
  const fields = [
    { name: 'q', label: t('applications.q'), placeholder: t('applications.qHint') },
    { name: 'status', label: t('field.status'), type: 'select', options: STATUSES.map((s) => [s, label('status', s)]) },
    { name: 'partner_id', label: t('field.partner_id') },
    { name: 'received_on', label: t('field.received_on'), type: 'date' },
  ];
  if (platform) fields.push({ name: 'branch_code', label: t('field.branch_code'), type: 'select', options: branches.map((b) => [b, label('branch', b)]) });
  const list = pagedList(
    (cursor) => api('/backoffice/applications', { params: { ...query, limit: PAGE_SIZE, cursor } }),
    (items) => table({
      testid: 'applications-table',
      rowKey: 'application_id',
      rows: items,
      onRow: (row) => navigate(`applications/${encodeURIComponent(row.application_id)}`),
      columns: [
        { key: 'application_id', render: (r) => h('a', { href: `#/applications/${encodeURIComponent(r.application_id)}` }, r.application_id) },
        { key: 'partner_id', render: (r) => label('partner', r.partner_id) },
        { key: 'partner_application_no' },
        { key: 'branch_code', render: (r) => label('branch', r.branch_code) },
        { key: 'product_code', render: (r) => label('product', r.product_code) },
        { key: 'status', render: (r) => badge('status', r.status) },
        { key: 'amount', className: 'num', render: (r) => yuan(r.amount) },
        { key: 'created_at', render: (r) => dateTime(r.created_at) },
        { key: 'updated_at', render: (r) => dateTime(r.updated_at) },
      ],
    }),
  );
  return h('div', pageTitle(t('nav.applications')), filterForm(fields, query, (values) => navigate('applications', values)), list);
}
