// A document editor for the configuration: a form made from the document itself (objects as
// fieldsets, lists with add / move / remove, strings stay strings: amounts and rates are strings
// in the API) or the raw JSON. A 400's `details` ([{field: "channels[0].shares[0].ratio", message}])
// are shown next to the field of that path (or the nearest enclosing one).

import { h, replace, append } from './dom.js';
import { t, label, fieldLabel } from './i18n.js';
import { errorBox } from './ui.js';

// Fields whose values come from a fixed set (a select), by path; others may suggest values (a datalist).
const CHOICES = [
  [/^mode$/, 'mode', ['SINGLE_APPROVAL', 'CREDIT_LINE']],
  [/^kind$/, 'kind', ['BRANCH', 'PARTICIPATING_BANK', 'OWN_FUNDS']],
  [/^prepayment\.mode$/, 'prepaymentMode', ['LOWER_INSTALLMENT', 'SHORTEN_TERM']],
  [/^repayment_methods\[\d+\]$/, 'method', ['EQUAL_INSTALLMENT', 'EQUAL_PRINCIPAL', 'INTEREST_FIRST', 'BULLET']],
];
const SUGGESTIONS = {
  routing_rules: ['preferred_cooperation', 'region_match', 'balance', 'fee_rate'],
};

export function pathOf(parent, key) {
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : String(key);
}

function clone(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/** A blank of the same shape (for a new list item). */
function blank(value) {
  if (Array.isArray(value)) return [];
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, blank(v)]));
  if (typeof value === 'string') return '';
  if (typeof value === 'boolean') return false;
  return null;
}

/** What the user typed in a field that was null: JSON when it is (12, true, {...}), else the text. */
function parseLoose(text) {
  if (text.trim() === '') return null;
  try {
    const value = JSON.parse(text);
    if (typeof value !== 'string') return value;
  } catch { /* plain text */ }
  return text;
}

/**
 * editor({document, readOnly, save(document) -> Promise, testid}) -> element.
 * `save` rejects with an ApiError: 400 details are placed by path, anything else shown above.
 */
export function editor({ document: original, readOnly = false, save, testid = 'editor' }) {
  let state = clone(original);
  let mode = 'form';
  let errors = [];
  const root = h('div.editor', { 'data-testid': testid });
  const body = h('div.editor-body');
  const messages = h('div.editor-messages', { 'data-testid': 'editor-messages' });
  const orphanBox = h('div.editor-orphans');
  const datalists = h('div', Object.entries(SUGGESTIONS).map(([key, values]) =>
    h('datalist', { id: `suggest-${key}` }, values.map((v) => h('option', { value: v }, label('routingRule', v))))));

  const modeButtons = ['form', 'json'].map((m) => h('button', {
    type: 'button',
    'data-testid': `editor-mode-${m}`,
    on: { click: () => switchMode(m) },
  }, t(`editor.${m}`)));
  const saveButton = h('button.primary', { type: 'button', 'data-testid': 'editor-save', on: { click: onSave } }, t('editor.save'));
  const resetButton = h('button', { type: 'button', 'data-testid': 'editor-reset', on: { click: () => { state = clone(original); errors = []; replace(messages); draw(); } } }, t('editor.reset'));
  append(root, [
    h('div.editor-toolbar', modeButtons, readOnly ? h('span.muted', t('editor.readOnly')) : null),
    orphanBox, body, datalists,
    readOnly ? null : h('div.editor-actions', saveButton, resetButton),
    messages]);

  let jsonArea = null;

  function switchMode(next) {
    if (next === mode) return;
    if (mode === 'json' && !readJson()) return;
    mode = next;
    draw();
  }

  function readJson() {
    try {
      state = JSON.parse(jsonArea.value);
      return true;
    } catch (exc) {
      replace(messages, h('div.error', { role: 'alert' }, t('editor.badJson'), ' ', h('code', String(exc.message))));
      return false;
    }
  }

  function errorsAt(path, exact = true) {
    return errors.filter((e) => (exact ? e.field === path : false));
  }

  function fieldErrors(path) {
    const mine = errorsAt(path);
    return mine.length ? h('ul.field-errors', { 'data-error-for': path }, mine.map((e) => h('li', e.message))) : null;
  }

  function draw() {
    modeButtons.forEach((b, i) => b.classList.toggle('active', ['form', 'json'][i] === mode));
    replace(orphanBox);
    if (mode === 'json') {
      jsonArea = h('textarea.json', { rows: 24, spellcheck: 'false', disabled: readOnly, 'data-testid': 'editor-json' });
      jsonArea.value = JSON.stringify(state, null, 2);
      const listed = errors.length ? h('ul.field-errors', errors.map((e) => h('li', h('code', e.field || '—'), ' ', e.message))) : null;
      replace(body, listed, jsonArea);
      return;
    }
    replace(body, h('div.form', renderValue(state, '', null, (v) => { state = v; })));
    // Errors whose path has no field of its own are shown at the nearest enclosing field, else on top.
    const shown = new Set([...body.querySelectorAll('[data-error-for]')].map((el) => el.dataset.errorFor));
    const orphans = errors.filter((e) => !shown.has(e.field || ''));
    for (const error of orphans) {
      const host = nearestField(error.field || '');
      const item = h('li', error.field ? h('code', error.field) : null, ' ', error.message);
      if (host) {
        let list = host.querySelector(':scope > ul.field-errors');
        if (!list) { list = h('ul.field-errors', { 'data-error-for': host.dataset.path }); host.append(list); }
        list.append(item);
      } else {
        orphanBox.append(h('ul.field-errors', item));
      }
    }
  }

  function nearestField(path) {
    let current = path;
    while (current) {
      const host = body.querySelector(`[data-path="${CSS.escape(current)}"]`);
      if (host) return host;
      current = current.replace(/(\[\d+\]|\.[^.[\]]+|^[^.[\]]+)$/, '');
    }
    return null;
  }

  function renderValue(value, path, key, set) {
    if (Array.isArray(value)) return renderList(value, path, key, set);
    if (value && typeof value === 'object') return renderObject(value, path, key, set);
    return renderScalar(value, path, key, set);
  }

  function renderObject(object, path, key, set) {
    const box = h(path ? 'fieldset.group' : 'div.group', { 'data-path': path });
    if (path) box.append(h('legend', key === null || typeof key === 'number' ? `#${Number(key) + 1}` : fieldLabel(key)));
    for (const name of Object.keys(object)) {
      box.append(renderValue(object[name], pathOf(path, name), name, (v) => { object[name] = v; }));
    }
    if (!Object.keys(object).length) box.append(h('p.muted.small', t('editor.emptyObject')));
    const own = fieldErrors(path);
    if (own) box.append(own);
    return box;
  }

  function renderList(list, path, key, set) {
    const box = h('fieldset.group.list', { 'data-path': path }, h('legend', fieldLabel(key)));
    list.forEach((item, index) => {
      const itemPath = pathOf(path, index);
      const controls = readOnly ? null : h('div.item-controls',
        h('button.small', { type: 'button', title: t('editor.up'), 'data-testid': 'item-up', disabled: index === 0, on: { click: () => { [list[index - 1], list[index]] = [list[index], list[index - 1]]; draw(); } } }, '↑'),
        h('button.small', { type: 'button', title: t('editor.down'), 'data-testid': 'item-down', disabled: index === list.length - 1, on: { click: () => { [list[index + 1], list[index]] = [list[index], list[index + 1]]; draw(); } } }, '↓'),
        h('button.small.danger', { type: 'button', title: t('editor.remove'), 'data-testid': 'item-remove', on: { click: () => { list.splice(index, 1); draw(); } } }, '✕'));
      box.append(h('div.list-item', { 'data-item': itemPath },
        h('div.item-body', renderValue(item, itemPath, index, (v) => { list[index] = v; })),
        controls));
    });
    if (!readOnly) {
      box.append(h('button.small', {
        type: 'button',
        'data-testid': `add-${path}`,
        on: { click: () => { list.push(list.length ? blank(list[list.length - 1]) : ''); draw(); } },
      }, `+ ${t('editor.add')}`));
    }
    const own = fieldErrors(path);
    if (own) box.append(own);
    return box;
  }

  function renderScalar(value, path, key, set) {
    const listKey = Object.keys(SUGGESTIONS).find((k) => new RegExp(`(^|\\.)${k}\\[\\d+\\](\\.name)?$`).test(path));
    let input;
    const [, enumKind, choices] = CHOICES.find(([pattern]) => pattern.test(path)) || [];
    if (typeof value === 'boolean') {
      input = h('input', { type: 'checkbox', checked: value, disabled: readOnly, on: { change: () => set(input.checked) } });
    } else if (choices && (typeof value === 'string' || value === null)) {
      input = h('select', { disabled: readOnly, on: { change: () => set(input.value || null) } },
        value === null ? h('option', { value: '' }, '—') : null,
        [...new Set([...choices, ...(value ? [value] : [])])].map((c) => h('option', { value: c, selected: c === value }, `${label(enumKind, c)}${label(enumKind, c) !== c ? ' (' + c + ')' : ''}`)));
    } else if (typeof value === 'number') {
      input = h('input', { type: 'number', step: 'any', value: String(value), disabled: readOnly, on: { input: () => set(input.value === '' ? null : Number(input.value)) } });
    } else if (value === null) {
      input = h('input', { type: 'text', value: '', placeholder: 'null', disabled: readOnly, on: { input: () => set(parseLoose(input.value)) } });
    } else {
      input = h('input', { type: 'text', value: String(value), disabled: readOnly, list: listKey ? `suggest-${listKey}` : null, on: { input: () => set(input.value) } });
    }
    input.name = path;
    input.dataset.testid = `field-${path}`;
    const hasError = errorsAt(path).length > 0;
    if (hasError) input.setAttribute('aria-invalid', 'true');
    const parentKey = (path.match(/(?:^|\.)([^.[\]]+)(?:\[\d+\])?\.[^.[\]]+$/) || [])[1];
    const caption = typeof key === 'number' ? `#${key + 1}` : fieldLabel(key, parentKey);
    return h(`label.field${hasError ? '.invalid' : ''}`, { 'data-path': path },
      h('span.caption', caption, typeof key === 'string' && caption !== key ? h('code.key', key) : null),
      input,
      fieldErrors(path));
  }

  async function onSave() {
    if (mode === 'json' && !readJson()) return;
    saveButton.disabled = true;
    replace(messages, h('p.muted', t('editor.saving')));
    try {
      await save(clone(state));
      errors = [];
      replace(messages);
    } catch (error) {
      errors = error && error.status === 400 ? error.details || [] : [];
      if (error && error.status === 400 && errors.length) {
        replace(messages, h('div.error', { role: 'alert', 'data-testid': 'editor-invalid' }, t('editor.invalid', { count: errors.length })));
      } else if (error && error.status === 409) {
        replace(messages, h('div', { 'data-testid': 'version-conflict' }, h('div.error', { role: 'alert' }, t('editor.conflict')), errorBox(error)));
      } else {
        replace(messages, errorBox(error));
      }
      draw();
    } finally {
      saveButton.disabled = false;
    }
  }

  draw();
  return root;
}
