// Interface strings in English and Simplified Chinese. Every visible string
// comes from a locale file; the language is taken from navigator.language
// until the user picks one, which is then kept in localStorage.
import en from './locales/en.json';
import zhCN from './locales/zh-CN.json';

export type Locale = 'en' | 'zh-CN';
type Messages = Record<string, string>;

const catalogs: Record<Locale, Messages> = { en, 'zh-CN': zhCN };
const storageKey = 'weir.locale';
let current: Locale = detectLocale();
const listeners: (() => void)[] = [];

export function detectLocale(): Locale {
  const stored = localStorage.getItem(storageKey);
  if (stored === 'en' || stored === 'zh-CN') return stored;
  const languages = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const language of languages) {
    const lower = (language || '').toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

export function locale(): Locale {
  return current;
}

export function setLocale(next: Locale): void {
  current = next;
  localStorage.setItem(storageKey, next);
  document.documentElement.lang = next;
  for (const listener of listeners) listener();
}

/** Registers a callback that re-renders the interface after a language switch. */
export function onLocaleChange(listener: () => void): void {
  listeners.push(listener);
}

/** Returns the string for `key` with `{name}` placeholders filled; an unknown key returns itself. */
export function t(key: string, parameters: Record<string, string | number> = {}): string {
  const template = catalogs[current][key] ?? catalogs.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (match, name: string) =>
    name in parameters ? String(parameters[name]) : match,
  );
}

/** Formats a timestamp (RFC 3339 string or Unix seconds) in the current language. */
export function formatTime(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '';
  const date = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(current);
}

export function formatNumber(value: number | null | undefined): string {
  return value === null || value === undefined ? '' : value.toLocaleString(current);
}
