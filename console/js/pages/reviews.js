// The manual review queue: GET /backoffice/reviews[?branch=]; a decision POST /backoffice/reviews/{id}
// {outcome, comment}; the workflow resumes, and the application's new status is read back from
// GET /backoffice/applications/{id}.

import { h, replace, append } from '../dom.js';
import { t, label } from '../i18n.js';
import { api } from '../api.js';
import { yuan, percent, dateTime } from '../format.js';
import { pageTitle, section, table, keyValues, badge, errorBox, filterForm, formatValue } from '../ui.js';
import { context } from '../context.js';

const DECIDERS = ['REVIEWER', 'PLATFORM'];

export async function render({ query, session, navigate }) {
  const operator = session.operator || {};
  const platform = operator.role === 'PLATFORM';
  const branch = query.branch || (platform ? '' : operator.branch_code);
  const branches = platform ? await context.branches(operator) : [];
  const head = pageTitle(t('nav.reviews'), branch ? h('span.muted', label('branch', branch)) : null);
  const filters = platform
    ? filterForm([{ name: 'branch', label: t('field.branch_code'), type: 'select', options: branches.map((b) => [b, label('branch', b)]) }],
      query, (values) => navigate('reviews', values))
    : null;
  if (platform && !branch) return h('div', head, filters, h('p.muted', t('reviews.chooseBranch')));
  const queue = await api('/backoffice/reviews', { params: { branch: platform ? branch : undefined } });
  const items = queue.items || [];
  const mayDecide = DECIDERS.includes(operator.role);
  return h('div.reviews', head, filters,
    h('p.muted', { 'data-testid': 'queue-count' }, t('reviews.count', { count: items.length })),
    items.length
      ? h('div.review-list', { 'data-testid': 'review-queue' }, items.map((item) => reviewCard(item, mayDecide)))
      : h('p.empty.muted', { 'data-testid': 'review-queue-empty' }, t('reviews.empty')));
}

function reviewCard(item, mayDecide) {
  const application = item.application || {};
  const applicant = application.applicant || {};
  const decision = item.decision || {};
  const trail = item.trail || {};
  const inputs = trail.inputs || {};
  const bureauFacts = Object.fromEntries(Object.entries(inputs).filter(([k]) => k.startsWith('bureau_')));
  const card = h('article.card.review', { 'data-testid': 'review-item', 'data-application-id': item.application_id });
  append(card, [
    h('header.review-head',
      h('a.app-id', { href: `#/applications/${encodeURIComponent(item.application_id)}` }, item.application_id),
      h('span.head-status', badge('status', item.status)),
      h('span.muted', `${label('partner', item.partner_id)} · ${label('branch', item.branch_code)} · ${dateTime(item.updated_at)}`)),
    h('div.grid-3',
      h('div', h('h3', t('reviews.application')), keyValues(application, {
        keys: ['partner_application_no', 'product_code', 'amount', 'term_months', 'repayment_method', 'purpose'].filter((k) => k in application),
      })),
      h('div', h('h3', t('reviews.applicant')), keyValues(applicant, { context: 'applicant' })),
      h('div', h('h3', t('reviews.bureau')), keyValues(bureauFacts), trail.bureau ? keyValues(trail.bureau) : null)),
    h('div.grid-2',
      h('div', h('h3', t('reviews.score')),
        h('dl.kv.score',
          h('dt', t('field.score')), h('dd', { 'data-field': 'score' }, formatValue('score', decision.score ?? trail.score)),
          h('dt', t('field.band')), h('dd', formatValue('band', decision.band ?? trail.band)),
          h('dt', t('field.pd')), h('dd', decision.pd != null ? percent(decision.pd) : '—'),
          h('dt', t('field.approved_limit')), h('dd', yuan(decision.approved_limit)),
          h('dt', t('field.annual_rate')), h('dd', decision.annual_rate != null ? percent(decision.annual_rate) : '—'),
          h('dt', t('field.reasons')), h('dd', { 'data-field': 'reasons' }, reasons(decision.reasons || trail.reasons))),
        trail.limit_caps ? h('div', h('h4', t('field.limit_caps')), keyValues(trail.limit_caps)) : null,
        trail.fraud_hits && trail.fraud_hits.length ? h('div', h('h4', t('field.fraud_hits')), h('ul', trail.fraud_hits.map((x) => h('li', typeof x === 'string' ? label('reason', x) : JSON.stringify(x))))) : null),
      h('div', h('h3', t('reviews.rules')), table({
        columns: [
          { key: 'code', render: (r) => h('span', { title: r.code }, label('reason', r.code)) },
          { key: 'outcome', render: (r) => label('outcome', r.outcome) },
          { key: 'fired', render: (r) => (r.fired ? h('strong.fired', t('reviews.fired')) : h('span.muted', t('reviews.notFired'))) },
        ],
        rows: trail.rule_results || [],
        testid: 'rule-results',
      }))),
    scorecard(trail.scorecard)]);
  if (mayDecide) card.append(decisionForm(item));
  return card;
}

function reasons(codes) {
  if (!codes || !codes.length) return '—';
  return h('span', codes.map((c) => h('span.tag', { title: c }, label('reason', c))));
}

function scorecard(card) {
  if (!card || !card.contributions) return null;
  return h('details.nested', h('summary', `${t('reviews.scorecard')} ${card.version ? '(' + card.version + ')' : ''}`),
    table({
      columns: [
        { key: 'characteristic', render: (r) => r[0] },
        { key: 'bin', render: (r) => r[1] },
        { key: 'points', className: 'num', render: (r) => String(r[2]) },
      ],
      rows: card.contributions,
    }));
}

function decisionForm(item) {
  const comment = h('textarea', { name: 'comment', rows: 2, maxlength: 500, required: true, placeholder: t('reviews.commentHint'), 'data-testid': 'review-comment' });
  const result = h('div.review-result', { 'data-testid': 'review-result' });
  const buttons = ['APPROVE', 'REJECT'].map((outcome) => h(`button.${outcome === 'APPROVE' ? 'primary' : 'danger'}`, {
    type: 'button',
    'data-testid': `review-${outcome.toLowerCase()}`,
    on: { click: () => decide(outcome) },
  }, t(`reviews.${outcome.toLowerCase()}`)));

  async function decide(outcome) {
    if (!comment.value.trim()) {
      replace(result, h('div.error', t('reviews.commentRequired')));
      comment.focus();
      return;
    }
    buttons.forEach((b) => { b.disabled = true; });
    replace(result, h('p.muted', t('reviews.sending')));
    try {
      await api(`/backoffice/reviews/${encodeURIComponent(item.application_id)}`, { method: 'POST', body: { outcome, comment: comment.value.trim() } });
    } catch (error) {
      replace(result, errorBox(error));
      buttons.forEach((b) => { b.disabled = false; });
      return;
    }
    replace(result, h('p', t('reviews.decided', { outcome: label('outcome', outcome) }), ' ', h('span.muted', t('reviews.waitingForWorkflow'))));
    // The workflow resumes on its own: read the application again until its status moves on.
    const deadline = Date.now() + 30000;
    let detail = null;
    while (Date.now() < deadline) {
      try {
        detail = await api(`/backoffice/applications/${encodeURIComponent(item.application_id)}`);
      } catch (error) {
        replace(result, errorBox(error));
        return;
      }
      const status = (detail.application || detail).status || detail.status;
      if (status && status !== 'MANUAL_REVIEW') break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const status = detail ? (detail.status || (detail.application || {}).status) : null;
    replace(result,
      h('p', t('reviews.decided', { outcome: label('outcome', outcome) })),
      h('p', t('reviews.nowStatus'), ' ', h('span', { 'data-testid': 'review-result-status', 'data-status': status || '' }, badge('status', status)),
        ' ', h('a', { href: `#/applications/${encodeURIComponent(item.application_id)}` }, t('reviews.openDetail'))));
    item.status = status;
    const head = result.closest('.review') && result.closest('.review').querySelector('.head-status');
    if (head) replace(head, badge('status', status));
  }

  return h('div.decide', { 'data-testid': 'review-form' },
    h('label', h('span', t('reviews.comment')), comment),
    h('div.buttons', buttons),
    result);
}
