// One partner's reconciliation of one day: GET /backoffice/reconciliation/{partner}/{day}?kind=&cursor=
// -> {partner_id, business_date, status, bank_total, partner_total, breaks, partner_rows, invalid_rows,
//     bank_rows, kind, totals: {partner: [...], bank: [...]}, counts: {KIND: n}, items: [...], next_cursor}.

import { h } from '../dom.js';
import { t, label, fieldLabel } from '../i18n.js';
import { api } from '../api.js';
import { yuan, count } from '../format.js';
import { pageTitle, section, table, keyValues, filterForm, badge, formatValue, pagedList, valueView } from '../ui.js';

const KINDS = ['MATCHED', 'MISSING_AT_BANK', 'MISSING_AT_PARTNER', 'AMOUNT_MISMATCH', 'STATUS_MISMATCH', 'DUPLICATE', 'INVALID_ROW'];
const BREAK_KINDS = KINDS.filter((k) => k !== 'MATCHED');
const SUMMARY_ENUMS = { status: 'reconStatus', kind: 'recon' };
const ROW_ENUMS = { status: 'txnStatus', txn_type: 'txnType', side: 'side' };
const SUMMARY_KEYS = ['partner_id', 'business_date', 'status', 'bank_total', 'partner_total', 'breaks', 'partner_rows', 'bank_rows', 'invalid_rows', 'reason'];

export async function render({ params, query, navigate }) {
  const path = `/backoffice/reconciliation/${encodeURIComponent(params.partner)}/${encodeURIComponent(params.day)}`;
  const report = await api(path, { params: { kind: query.kind } });
  const totals = report.totals || {};
  const counts = report.counts || {};
  let first = report;
  const rows = pagedList(
    async (cursor) => {
      if (!cursor && first) { const answer = first; first = null; return answer; }
      return api(path, { params: { kind: query.kind, cursor } });
    },
    (items) => table({
      testid: 'reconciliation-rows',
      rows: items,
      empty: t('reconciliation.noBreaks'),
      columns: [
        { key: 'kind', label: t('reconciliation.kind'), render: (r) => badge('recon', r.kind || r.classification) },
        { key: 'side', label: t('reconciliation.side'), render: (r) => label('side', r.side) },
        { key: 'txn_type', render: (r) => label('txnType', r.txn_type) },
        { key: 'txn_ref', render: (r) => h('code', r.txn_ref || '—') },
        { key: 'line', className: 'num', render: (r) => (r.line == null ? '—' : String(r.line)) },
        { key: 'fields', render: (r) => (Array.isArray(r.fields) ? r.fields.map((f) => fieldLabel(f)).join('、') : formatValue('fields', r.fields)) },
        { key: 'partner', label: t('reconciliation.partnerSide'), render: (r) => (r.partner ? valueView(r.partner, 'partner', ROW_ENUMS) : '—') },
        { key: 'bank', label: t('reconciliation.bankSide'), render: (r) => (r.bank ? valueView(r.bank, 'bank', ROW_ENUMS) : '—') },
        { key: 'detail' },
      ],
    }),
  );
  return h('div.reconciliation-day', { 'data-testid': 'reconciliation-day' },
    pageTitle(t('reconciliation.dayTitle'), h('code', `${params.partner} · ${params.day}`), badge('reconStatus', report.status),
      h('a', { href: '#/reconciliation' }, t('reconciliation.back'))),
    h('div.grid-2',
      section(t('reconciliation.summary'), keyValues(report, { keys: SUMMARY_KEYS.filter((k) => k in report), enums: SUMMARY_ENUMS })),
      section(t('reconciliation.counts'), Object.keys(counts).length
        ? table({
          testid: 'reconciliation-counts',
          rows: KINDS.filter((k) => k in counts).map((k) => ({ kind: k, count: counts[k] })),
          columns: [
            { key: 'kind', label: t('reconciliation.kind'), render: (r) => badge('recon', r.kind) },
            { key: 'count', className: 'num', render: (r) => (BREAK_KINDS.includes(r.kind) && Number(r.count) > 0 ? h('strong.fired', count(r.count)) : count(r.count)) },
          ],
        })
        : h('p.muted', t('common.empty')))),
    Object.keys(totals).length ? h('div.grid-2',
      ['partner', 'bank'].filter((side) => totals[side]).map((side) => section(t(`reconciliation.${side}Totals`), table({
        testid: `totals-${side}`,
        rows: totals[side],
        columns: [
          { key: 'txn_type', render: (r) => (r.txn_type === 'ALL' ? h('strong', t('reconciliation.all')) : label('txnType', r.txn_type)) },
          { key: 'status', render: (r) => (r.status === 'ALL' ? '' : label('txnStatus', r.status)) },
          { key: 'count', className: 'num', render: (r) => count(r.count) },
          { key: 'amount', className: 'num', render: (r) => (r.txn_type === 'ALL' ? h('strong', yuan(r.amount)) : yuan(r.amount)) },
        ],
      })))) : null,
    filterForm([{ name: 'kind', label: t('reconciliation.kind'), type: 'select', options: BREAK_KINDS.map((k) => [k, label('recon', k)]) }],
      query, (values) => navigate(`reconciliation/${encodeURIComponent(params.partner)}/${encodeURIComponent(params.day)}`, values)),
    section(t('reconciliation.rows'), rows));
}
