// Every label comes from one dictionary per language: i18n/zh-CN.json (the default) and i18n/en.json.

export const LANGUAGES = ['zh-CN', 'en'];
const STORAGE_KEY = 'console.lang';
let language = 'zh-CN';
let dictionary = {};
let fallback = {};

export function currentLanguage() {
  return language;
}

async function load(lang) {
  const response = await fetch(new URL(`../i18n/${lang}.json`, import.meta.url), { cache: 'no-cache' });
  if (!response.ok) throw new Error(`cannot load the ${lang} dictionary (${response.status})`);
  return response.json();
}

export async function setLanguage(lang) {
  if (!LANGUAGES.includes(lang)) lang = 'zh-CN';
  dictionary = await load(lang);
  if (lang !== 'zh-CN' && !Object.keys(fallback).length) fallback = await load('zh-CN').catch(() => ({}));
  language = lang;
  try { localStorage.setItem(STORAGE_KEY, lang); } catch { /* private mode */ }
  document.documentElement.lang = lang;
  document.title = t('app.title');
}

export async function initLanguage(preferred) {
  let lang = preferred || 'zh-CN';
  try { lang = localStorage.getItem(STORAGE_KEY) || lang; } catch { /* private mode */ }
  await setLanguage(lang);
}

/** The label for a key, with {name} placeholders filled; the key itself when no dictionary has it. */
export function t(key, params) {
  let text = dictionary[key] ?? fallback[key] ?? key;
  if (params) text = text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
  return text;
}

/** Whether the current dictionary has a label for a key. */
export function has(key) {
  return key in dictionary;
}

/** A code of an enumeration (status, class, role, ...) translated; the code itself when unknown. */
export function label(kind, code) {
  if (code === null || code === undefined || code === '') return '—';
  const key = `${kind}.${code}`;
  return key in dictionary ? dictionary[key] : String(code);
}

/** A field name's label ("field.<context>.<name>" first, then "field.<name>"); the name itself when unknown. */
export function fieldLabel(name, context) {
  const specific = context ? `field.${context}.${name}` : null;
  if (specific && specific in dictionary) return dictionary[specific];
  const key = `field.${name}`;
  return key in dictionary ? dictionary[key] : String(name);
}
