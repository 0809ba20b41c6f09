// Reconciliation: GET /backoffice/reconciliation?partner_id=&from=&to= -> items
// {partner_id, business_date, status, bank_total, partner_total, breaks}.

import { h } from '../dom.js';
import { t, label } from '../i18n.js';
import { api } from '../api.js';
import { yuan, count } from '../format.js';
import { pageTitle, table, filterForm, pagedList, badge } from '../ui.js';

export async function render({ query, navigate }) {
  const fields = [
    { name: 'partner_id', label: t('field.partner_id') },
    { name: 'from', label: t('reconciliation.from'), type: 'date' },
    { name: 'to', label: t('reconciliation.to'), type: 'date' },
  ];
  const detailLink = (r) => `#/reconciliation/${encodeURIComponent(r.partner_id)}/${encodeURIComponent(r.business_date)}`;
  const list = pagedList(
    (cursor) => api('/backoffice/reconciliation', { params: { ...query, cursor } }),
    (items) => table({
      testid: 'reconciliation-table',
      rows: items,
      onRow: (row) => { location.hash = detailLink(row); },
      columns: [
        { key: 'business_date', render: (r) => h('a', { href: detailLink(r) }, r.business_date) },
        { key: 'partner_id', render: (r) => label('partner', r.partner_id) },
        { key: 'status', render: (r) => badge('reconStatus', r.status) },
        { key: 'bank_total', className: 'num', render: (r) => yuan(r.bank_total) },
        { key: 'partner_total', className: 'num', render: (r) => yuan(r.partner_total) },
        { key: 'breaks', className: 'num', render: (r) => (Number(r.breaks) > 0 ? h('strong.fired', count(r.breaks)) : count(r.breaks)) },
      ],
    }),
  );
  return h('div', pageTitle(t('nav.reconciliation')), filterForm(fields, query, (values) => navigate('reconciliation', values)), list);
}
