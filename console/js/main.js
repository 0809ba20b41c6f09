// The console's shell: config.json (optional), the language, the session, the header, the menu and
// the hash router (#/dashboard, #/applications/<id>, ...), which works on any static host.

import { h, replace } from './dom.js';
import { t, label, initLanguage, setLanguage, currentLanguage } from './i18n.js';
import { configureApi, session, clearSession } from './api.js';
import { setTimeZone } from './format.js';
import { errorBox, loading } from './ui.js';
import { destroyCharts } from './charts.js';
import { context } from './context.js';

import * as login from './pages/login.js';
import * as dashboard from './pages/dashboard.js';
import * as reviews from './pages/reviews.js';
import * as applications from './pages/applications.js';
import * as application from './pages/application.js';
import * as loans from './pages/loans.js';
import * as loan from './pages/loan.js';
import * as configuration from './pages/configuration.js';
import * as history from './pages/history.js';
import * as reconciliation from './pages/reconciliation.js';
import * as reconciliationDay from './pages/reconciliation_day.js';
import * as collections from './pages/collections.js';
import * as warnings from './pages/warnings.js';

const ROUTES = [
  ['login', login],
  ['dashboard', dashboard],
  ['reviews', reviews],
  ['applications', applications],
  ['applications/:id', application],
  ['loans', loans],
  ['loans/:id', loan],
  ['config', configuration],
  ['config/history', history],
  ['reconciliation', reconciliation],
  ['reconciliation/:partner/:day', reconciliationDay],
  ['collections', collections],
  ['warnings', warnings],
];

const MENU = [
  ['dashboard', 'nav.dashboard'],
  ['reviews', 'nav.reviews'],
  ['applications', 'nav.applications'],
  ['loans', 'nav.loans'],
  ['config', 'nav.config'],
  ['reconciliation', 'nav.reconciliation', ['PLATFORM', 'AUDITOR']],  // others get 403 there
  ['collections', 'nav.collections'],
  ['warnings', 'nav.warnings'],
];

/** The current route: {path, params, query} from location.hash ("#/loans/LN1?x=y"). */
export function currentRoute() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path, search = ''] = raw.split('?');
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  for (const [pattern, page] of ROUTES) {
    const parts = pattern.split('/');
    if (parts.length !== segments.length) continue;
    const params = {};
    if (parts.every((part, i) => (part.startsWith(':') ? ((params[part.slice(1)] = segments[i]), true) : part === segments[i]))) {
      return { pattern, page, params, query: Object.fromEntries(new URLSearchParams(search)) };
    }
  }
  return null;
}

/** Go to a route: navigate('loans', {status: 'ACTIVE'}) or navigate('loans/LN1'). */
export function navigate(path, queryParams) {
  const search = new URLSearchParams(Object.entries(queryParams || {}).filter(([, v]) => v !== '' && v != null)).toString();
  const target = `#/${path}${search ? `?${search}` : ''}`;
  if (location.hash === target) render();
  else location.hash = target;
}

function renderHeader(current) {
  const topbar = document.getElementById('topbar');
  const nav = document.getElementById('nav');
  const saved = session();
  if (!saved) {
    topbar.hidden = true;
    nav.hidden = true;
    // The language toggle stays reachable on the login page.
    return;
  }
  const operator = saved.operator || {};
  topbar.hidden = false;
  nav.hidden = false;
  replace(topbar,
    h('div.brand', t('app.title')),
    h('div.who', { 'data-testid': 'who' },
      h('span.name', { 'data-testid': 'operator-name' }, operator.name || operator.operator_id || ''),
      h('span.role', { 'data-testid': 'operator-role' }, label('role', operator.role)),
      h('span.branch', { 'data-testid': 'operator-branch' }, operator.branch_code ? label('branch', operator.branch_code) : t('header.allBranches'))),
    languageToggle(),
    h('button.logout', { type: 'button', 'data-testid': 'logout', on: { click: logout } }, t('header.logout')));
  const mine = MENU.filter(([, , roles]) => !roles || roles.includes(operator.role));
  replace(nav, h('ul', mine.map(([path, key]) => h('li', h('a', {
    href: `#/${path}`,
    class: current && current.pattern.split('/')[0] === path ? 'active' : null,
    'data-testid': `nav-${path}`,
  }, t(key))))));
}

export function languageToggle() {
  const other = currentLanguage() === 'zh-CN' ? 'en' : 'zh-CN';
  return h('button.lang', {
    type: 'button',
    'data-testid': 'language-toggle',
    lang: other,
    on: { click: async () => { await setLanguage(other); render(); } },
  }, t('header.otherLanguage'));
}

function logout() {
  clearSession();
  context.reset();
  navigate('login');
}

let renderCount = 0;

export async function render() {
  const ticket = ++renderCount;
  destroyCharts();
  let route = currentRoute();
  if (!route) {
    location.replace(`#/${session() ? 'dashboard' : 'login'}`);
    return;
  }
  if (!session() && route.pattern !== 'login') {
    const back = location.hash;
    location.replace(`#/login${back && back !== '#/' ? `?next=${encodeURIComponent(back.slice(1))}` : ''}`);
    return;
  }
  if (session() && route.pattern === 'login') {
    location.replace('#/dashboard');
    return;
  }
  renderHeader(route);
  const page = document.getElementById('page');
  replace(page, loading());
  page.dataset.route = route.pattern;
  delete page.dataset.ready;  // set again once this route has rendered (tests and screen readers wait for it)
  delete page.dataset.failed;
  try {
    const view = await route.page.render({ ...route, navigate, languageToggle, session: session(), stale: () => ticket !== renderCount });
    if (ticket !== renderCount) return;
    replace(page, view);
    page.dataset.ready = route.pattern;
  } catch (error) {
    if (ticket !== renderCount) return;
    replace(page, errorBox(error));
    page.dataset.failed = error && error.code ? error.code : 'ERROR';
    page.dataset.ready = route.pattern;
  }
}

async function loadConfig() {
  try {
    const response = await fetch('./config.json', { cache: 'no-cache' });
    if (response.ok) return await response.json();
  } catch { /* no config.json: the defaults */ }
  return {};
}

async function start() {
  const config = await loadConfig();
  context.config = config;
  setTimeZone(config.timeZone);
  configureApi({
    base: config.apiBase || '',
    unauthorized: () => {
      context.reset();
      if (!location.hash.startsWith('#/login')) navigate('login', { next: location.hash.slice(1) });
    },
  });
  await initLanguage(config.defaultLanguage);
  window.addEventListener('hashchange', render);
  await render();
}

start().catch((error) => replace(document.getElementById('page'), errorBox(error)));
