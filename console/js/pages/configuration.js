// Configuration: funders, a product's funding (its channels and routing rules), branch quotas and
// products. Every document is edited as a form or as JSON; a PUT carries `expected_version`
// (409 VERSION_CONFLICT when someone else changed it first); only platform operators may write.

import { h, replace } from '../dom.js';
import { t, label } from '../i18n.js';
import { api } from '../api.js';
import { yuan, percent } from '../format.js';
import { pageTitle, section, table, errorBox, loading, badge } from '../ui.js';
import { editor } from '../editor.js';
import { context } from '../context.js';

const TABS = ['funding', 'funders', 'quotas', 'products'];

// What each tab edits: where it reads and writes, the document in the answer, its history key.
const KINDS = {
  funders: {
    url: (code) => `/backoffice/funders/${encodeURIComponent(code)}`,
    document: (answer) => answer.funder,
    history: (code) => `FUNDER/${code}`,
  },
  funding: {
    url: (code) => `/backoffice/products/${encodeURIComponent(code)}/funding`,
    document: (answer) => answer.funding,
    history: (code) => `FUNDING/${code}`,
  },
  quotas: {
    url: (code) => `/backoffice/branches/${encodeURIComponent(code)}/quotas`,
    document: (answer) => answer.quotas,
    history: (code) => `BRANCH/${code}`,
  },
  products: {
    url: (code) => `/backoffice/products/${encodeURIComponent(code)}`,
    document: (answer) => answer.product || answer.document || withoutMeta(answer),
    history: (code) => `PRODUCT/${code}`,
  },
};

function withoutMeta(answer) {
  const { version, expected_version: _e, ...rest } = answer || {};
  return rest;
}

export async function render({ query, session, navigate }) {
  const operator = session.operator || {};
  const platform = operator.role === 'PLATFORM';
  const tab = TABS.includes(query.tab) ? query.tab : 'funding';
  const tabs = h('div.tabs', { role: 'tablist' }, TABS.map((name) => h('a.tab', {
    href: `#/config?tab=${name}`,
    class: name === tab ? 'active' : null,
    role: 'tab',
    'data-testid': `tab-${name}`,
  }, t(`config.tab.${name}`))));
  const body = h('div.tab-body', loading());
  const view = h('div.configuration', pageTitle(t('nav.config'), platform ? null : h('span.muted', t('config.readOnly'))), tabs, body);
  const choose = (code) => navigate('config', { tab, code });
  const code = query.code || (tab === 'quotas' && !platform ? operator.branch_code : null);
  const chooser = await codeChooser(tab, operator, code, choose);
  replace(body, chooser);
  if (tab === 'funders') {
    body.append(await fundersTable(query.code, choose));
  }
  if (code) {
    const box = h('div', loading());
    body.append(box);
    await showEditor(box, tab, code, platform, () => navigate('config', { tab, code }));
  } else if (tab !== 'funders') {
    body.append(h('p.muted', t('config.choose')));
  }
  return view;
}

/** A select (or a text field with suggestions) of the codes this tab can edit. */
async function codeChooser(tab, operator, current, choose) {
  let codes = [];
  if (tab === 'funding' || tab === 'products') codes = await context.products();
  if (tab === 'quotas') codes = await context.branches(operator);
  if (tab === 'funders') return h('div');
  const input = h('input', { name: 'code', value: current || '', list: `codes-${tab}`, 'data-testid': 'config-code', placeholder: t(`config.codeHint.${tab}`) });
  return h('form.filters', {
    on: { submit: (event) => { event.preventDefault(); if (input.value.trim()) choose(input.value.trim()); } },
  },
  h('label.filter', h('span', t(`config.code.${tab}`)), input),
  h('datalist', { id: `codes-${tab}` }, codes.map((c) => h('option', { value: c }))),
  h('button.primary', { type: 'submit', 'data-testid': 'config-open' }, t('config.open')),
  codes.length ? h('span.chips', codes.map((c) => h('a.chip', { href: `#/config?tab=${tab}&code=${encodeURIComponent(c)}`, class: c === current ? 'active' : null }, c))) : null);
}

async function fundersTable(current, choose) {
  let answer;
  try {
    answer = await api('/backoffice/funders');
  } catch (error) {
    return errorBox(error);
  }
  return section(t('config.tab.funders'), table({
    testid: 'funders-table',
    rowKey: 'code',
    rows: answer.items || [],
    onRow: (row) => choose(row.code),
    columns: [
      { key: 'code', render: (r) => h('a', { href: `#/config?tab=funders&code=${encodeURIComponent(r.code)}`, class: r.code === current ? 'active' : null }, r.code) },
      { key: 'name', render: (r) => (r.funder || {}).name || '—' },
      { key: 'kind', render: (r) => label('kind', (r.funder || {}).kind) },
      { key: 'cooperating', render: (r) => ((r.funder || {}).cooperating ? t('common.yes') : t('common.no')) },
      { key: 'position_available', className: 'num', render: (r) => yuan((r.funder || {}).position_available) },
      { key: 'service_fee_rate', className: 'num', render: (r) => percent((r.funder || {}).service_fee_rate) },
      { key: 'limit', className: 'num', render: (r) => yuan((r.total_quota || {}).limit) },
      { key: 'remaining', className: 'num', render: (r) => yuan((r.total_quota || {}).remaining) },
      { key: 'version', className: 'num' },
    ],
  }));
}

async function showEditor(box, tab, code, platform, reload) {
  const kind = KINDS[tab];
  let answer;
  try {
    answer = await api(kind.url(code));
  } catch (error) {
    replace(box, errorBox(error));
    return;
  }
  const version = answer.version ?? 0;
  const documentNow = kind.document(answer) || {};
  const historyKey = kind.history(code);
  const saved = h('div.saved', { 'data-testid': 'saved' });
  const edit = editor({
    document: documentNow,
    readOnly: !platform,
    testid: `editor-${tab}`,
    save: async (document) => {
      const result = await api(kind.url(code), { method: 'PUT', body: { ...document, expected_version: version } });
      replace(saved, h('p.ok', t('config.saved', { version: result.version ?? '' }), ' ',
        h('a', { href: `#/config/history?key=${encodeURIComponent(historyKey)}`, 'data-testid': 'saved-history' }, t('config.seeHistory'))));
      await showEditor(box, tab, code, platform, reload);
      box.prepend(saved);
    },
  });
  const quota = answer.total_quota
    ? h('p.muted', t('config.totalQuota', { limit: yuan(answer.total_quota.limit), remaining: yuan(answer.total_quota.remaining) }))
    : null;
  replace(box, section(
    h('span', `${t(`config.tab.${tab}`)} · `, h('code', code), ' ', badge('version', `v${version}`)),
    h('p.meta', h('span', { 'data-testid': 'config-version', 'data-version': String(version) }, t('config.version', { version })), ' · ',
      h('a', { href: `#/config/history?key=${encodeURIComponent(historyKey)}`, 'data-testid': 'history-link' }, t('config.history'))),
    quota,
    edit));
}
