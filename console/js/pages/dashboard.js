// Dashboard: GET /backoffice/dashboard[?branch_code=], drawn with Chart.js.

import { h } from '../dom.js';
import { t, label } from '../i18n.js';
import { api } from '../api.js';
import { yuan, count, percent, chartNumber, sumDecimals } from '../format.js';
import { chart, colors } from '../charts.js';
import { pageTitle, section, table, filterForm } from '../ui.js';
import { context } from '../context.js';

function canvasBox(testid, height) {
  const canvas = h('canvas', { 'data-testid': testid, role: 'img' });
  return [h('div.chart-box', { style: height ? `height: ${height}px` : null }, canvas), canvas];
}

export async function render({ query, session, navigate }) {
  const operator = session.operator || {};
  const platform = operator.role === 'PLATFORM';
  const board = await api('/backoffice/dashboard', { params: { branch_code: query.branch_code } });
  const branches = platform ? await context.branches(operator) : [];

  const byStatus = Object.entries(board.applications_by_status || {});
  const byClass = Object.entries(board.loans_by_class || {}).filter(([, n]) => Number(n) > 0);
  const disbursed = board.disbursed_by_branch || [];
  const quotas = board.quota_use || [];
  const totalApplications = byStatus.reduce((sum, [, n]) => sum + Number(n || 0), 0);
  const totalLoans = byClass.reduce((sum, [, n]) => sum + Number(n || 0), 0);

  const filters = platform
    ? filterForm([{ name: 'branch_code', label: t('field.branch_code'), type: 'select', options: branches.map((b) => [b, label('branch', b)]) }],
      query, (values) => navigate('dashboard', values))
    : null;

  const tiles = h('div.tiles', { 'data-testid': 'tiles' },
    tile(t('dashboard.businessDate'), board.business_date || '—', 'business-date'),
    tile(t('dashboard.applications'), count(totalApplications), 'applications-total'),
    tile(t('dashboard.approvalRate'), board.approval_rate == null ? '—' : percent(board.approval_rate), 'approval-rate'),
    tile(t('dashboard.loans'), count(totalLoans), 'loans-total'),
    tile(t('dashboard.disbursed'), yuan(sumDecimals(disbursed.map((r) => r.amount))), 'disbursed-total'));

  const [statusBox, statusCanvas] = canvasBox('chart-status');
  const [classBox, classCanvas] = canvasBox('chart-class');
  const [branchBox, branchCanvas] = canvasBox('chart-disbursed');
  const [quotaBox, quotaCanvas] = canvasBox('chart-quota', Math.max(260, 60 + 30 * quotas.length));

  const disbursedTable = table({
    columns: [
      { key: 'branch_code', render: (r) => label('branch', r.branch_code) },
      { key: 'count', className: 'num', render: (r) => count(r.count) },
      { key: 'amount', className: 'num', render: (r) => yuan(r.amount) },
    ],
    rows: disbursed,
    testid: 'disbursed-table',
  });
  const quotaTable = table({
    columns: [
      { key: 'quota', label: t('dashboard.quota'), render: (r) => quotaName(r) },
      { key: 'period', label: t('dashboard.period'), render: (r) => periodName(r.period) },
      { key: 'limit', className: 'num', render: (r) => yuan(r.limit) },
      { key: 'used', className: 'num', render: (r) => yuan(r.used) },
      { key: 'remaining', className: 'num', render: (r) => yuan(r.remaining) },
    ],
    rows: quotas,
    testid: 'quota-table',
  });
  const empty = () => h('p.muted', t('common.empty'));
  const view = h('div.dashboard',
    pageTitle(t('nav.dashboard'), operator.branch_code ? h('span.muted', label('branch', operator.branch_code)) : null),
    filters,
    tiles,
    h('div.grid-2',
      section(t('dashboard.byStatus'), byStatus.length ? statusBox : empty()),
      section(t('dashboard.byClass'), byClass.length ? classBox : empty())),
    section(t('dashboard.disbursedByBranch'), h('div.grid-2', h('div', disbursed.length ? branchBox : empty()), h('div', disbursedTable))),
    section(t('dashboard.quotaUse'), quotas.length ? quotaBox : empty(), quotaTable));

  // Charts need their canvases in the document: draw them once the view is shown.
  requestAnimationFrame(() => {
    if (!view.isConnected) return;
    if (byStatus.length) {
      chart(statusCanvas, {
        type: 'bar',
        labels: byStatus.map(([s]) => label('status', s)),
        datasets: [{ label: t('dashboard.applications'), data: byStatus.map(([, n]) => Number(n)), backgroundColor: colors(byStatus.length) }],
        legend: false,
      });
    }
    if (byClass.length) {
      chart(classCanvas, {
        type: 'doughnut',
        labels: byClass.map(([c]) => label('class', c)),
        datasets: [{ data: byClass.map(([, n]) => Number(n)), backgroundColor: ['#2da44e', '#d29922', '#e16f24', '#cf222e', '#57606a', ...colors(8)] }],
      });
    }
    if (disbursed.length) {
      chart(branchCanvas, {
        type: 'bar',
        money: true,
        labels: disbursed.map((r) => label('branch', r.branch_code)),
        datasets: [{ label: t('field.amount'), data: disbursed.map((r) => chartNumber(r.amount)), texts: disbursed.map((r) => r.amount), backgroundColor: '#1f6feb' }],
        legend: false,
      });
    }
    if (quotas.length) {
      // Each quota's share used, in percent (the geometry only; the tooltip shows the amounts' strings).
      chart(quotaCanvas, {
        type: 'bar',
        horizontal: true,
        percent: true,
        labels: quotas.map((r) => `${quotaName(r)} · ${periodName(r.period)}`),
        datasets: [{
          label: t('dashboard.usedShare'),
          data: quotas.map((r) => (chartNumber(r.limit) > 0 ? (chartNumber(r.used) / chartNumber(r.limit)) * 100 : 0)),
          texts: quotas.map((r) => `${yuan(r.used)} / ${yuan(r.limit)}`),
          backgroundColor: '#d29922',
          minBarLength: 2,
        }],
        legend: false,
      });
    }
  });
  return view;
}

function quotaName(row) {
  return row.funder ? `${t('field.funder')} ${label('funder', row.funder)}` : `${t('field.branch_code')} ${label('branch', row.branch_code)}`;
}

function periodName(period) {
  if (!period || period === 'TOTAL') return t('dashboard.totalQuota');
  return `${t('dashboard.dailyQuota')} ${period}`;
}

function tile(title, value, testid) {
  return h('div.tile', { 'data-testid': testid }, h('div.tile-title', title), h('div.tile-value', value));
}
