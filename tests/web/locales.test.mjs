// Locale parity: every string of the web UI and the extension exists in both
// English and Simplified Chinese, with the same placeholders, and every key
// that the web code names literally exists.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const readJson = (...parts) => JSON.parse(readFileSync(join(root, ...parts), 'utf8'));

function missingKeys(from, to) {
  return Object.keys(from).filter((key) => !(key in to)).sort();
}

function placeholders(text, pattern) {
  return [...text.matchAll(pattern)].map((match) => match[1]).sort();
}

test('web locales have the same keys', () => {
  const en = readJson('web', 'src', 'locales', 'en.json');
  const zh = readJson('web', 'src', 'locales', 'zh-CN.json');
  assert.deepEqual(missingKeys(en, zh), [], 'keys in en.json missing from zh-CN.json');
  assert.deepEqual(missingKeys(zh, en), [], 'keys in zh-CN.json missing from en.json');
});

test('web locales have the same placeholders', () => {
  const en = readJson('web', 'src', 'locales', 'en.json');
  const zh = readJson('web', 'src', 'locales', 'zh-CN.json');
  for (const key of Object.keys(en).filter((name) => name in zh)) {
    assert.deepEqual(placeholders(zh[key], /\{(\w+)\}/g), placeholders(en[key], /\{(\w+)\}/g), `placeholders of ${key}`);
  }
});

test('web strings are not empty', () => {
  for (const file of ['en.json', 'zh-CN.json']) {
    const catalog = readJson('web', 'src', 'locales', file);
    const empty = Object.entries(catalog).filter(([, value]) => typeof value !== 'string' || value.trim() === '');
    assert.deepEqual(empty, [], `empty strings in ${file}`);
  }
});

test('web code names only existing keys', () => {
  const en = readJson('web', 'src', 'locales', 'en.json');
  const sourceDir = join(root, 'web', 'src');
  const used = new Set();
  for (const file of readdirSync(sourceDir).filter((name) => name.endsWith('.ts'))) {
    const source = readFileSync(join(sourceDir, file), 'utf8');
    for (const match of source.matchAll(/\bt\('([^']+)'/g)) used.add(match[1]);
  }
  assert.ok(used.size > 50, `found only ${used.size} t('...') calls; the scan pattern no longer matches the code`);
  const unknown = [...used].filter((key) => !(key in en)).sort();
  assert.deepEqual(unknown, [], 'keys used in web/src but missing from en.json');
});

test('extension locales have the same messages', () => {
  const en = readJson('extension', '_locales', 'en', 'messages.json');
  const zh = readJson('extension', '_locales', 'zh_CN', 'messages.json');
  assert.deepEqual(missingKeys(en, zh), [], 'messages in _locales/en missing from _locales/zh_CN');
  assert.deepEqual(missingKeys(zh, en), [], 'messages in _locales/zh_CN missing from _locales/en');
  for (const key of Object.keys(en).filter((name) => name in zh)) {
    assert.deepEqual(Object.keys(zh[key].placeholders ?? {}).sort(), Object.keys(en[key].placeholders ?? {}).sort(),
      `placeholders of ${key}`);
    assert.deepEqual(placeholders(zh[key].message, /\$(\w+)\$/g), placeholders(en[key].message, /\$(\w+)\$/g),
      `$NAME$ uses in ${key}`);
  }
});

test('extension names only existing messages', () => {
  const en = readJson('extension', '_locales', 'en', 'messages.json');
  const used = new Set();
  const scan = (text) => {
    for (const match of text.matchAll(/getMessage\('(\w+)'|message\('(\w+)'|data-i18n(?:-\w+)?="(\w+)"|__MSG_(\w+)__/g)) {
      used.add(match.slice(1).find(Boolean));
    }
  };
  for (const file of readdirSync(join(root, 'extension', 'src'))) scan(readFileSync(join(root, 'extension', 'src', file), 'utf8'));
  for (const file of ['sidepanel.html', 'options.html', 'manifest.json']) scan(readFileSync(join(root, 'extension', file), 'utf8'));
  // setConnection() passes the state name as the message key.
  for (const state of ['connecting', 'connected', 'disconnected', 'notConfigured']) used.add(state);
  const unknown = [...used].filter((key) => !(key in en)).sort();
  assert.deepEqual(unknown, [], 'messages used by the extension but missing from _locales/en');
});
