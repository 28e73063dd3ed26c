// End-to-end tests of the web UI and the extension in Debian's Chromium
// against a real `weir serve` in front of `weir sim` (see gateway.mjs).
// Screenshots go to test-artifacts/.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromiumPath, launch, root, screenshotPath } from './browser.mjs';
import { startGateway } from './gateway.mjs';

const skip = !existsSync(chromiumPath) ? `no Chromium at ${chromiumPath}` : false;
let gateway;

before(async () => {
  if (!skip) gateway = await startGateway();
});

after(async () => {
  await gateway?.stop();
});

async function signInWithKey(page, key) {
  await page.goto(gateway.baseUrl);
  await page.fill('#key-form input[name=key]', key);
  await page.click('#key-form button[type=submit]');
  await page.waitForSelector('#identity');
}

test('chat streams answer after key sign-in', { skip }, async () => {
  const browser = await launch();
  try {
    const page = await browser.context.newPage();
    await signInWithKey(page, gateway.userKey);
    await page.waitForSelector(`#model option[value="${gateway.model}"]`, { state: 'attached' });
    await page.selectOption('#model', gateway.model);
    await page.fill('#prompt', 'Tell me about weirs');
    await page.click('#send');

    // While the reply streams, the message carries the "streaming" class and part of the text.
    const partial = await page.waitForFunction(() => {
      const streaming = document.querySelector('.message.assistant.streaming .content');
      return streaming && streaming.textContent.trim().length > 0 ? streaming.textContent : null;
    });
    const partialText = await partial.jsonValue();
    await page.screenshot({ path: screenshotPath('chat-streaming') });

    await page.waitForSelector('.message.assistant:not(.streaming) .meta .copy');
    const finalText = await page.textContent('.message.assistant .content');
    assert.ok(finalText.trim().length > partialText.trim().length,
      `the answer did not grow after the first delta: "${partialText}" then "${finalText}"`);
    assert.match(await page.textContent('#conversation-list'), /Tell me about weirs/);
    await page.screenshot({ path: screenshotPath('chat-answer') });
  } finally {
    await browser.close();
  }
});

test('password sign-in opens chat', { skip }, async () => {
  const browser = await launch();
  try {
    const page = await browser.context.newPage();
    await page.goto(gateway.baseUrl);
    await page.fill('#password-form input[name=username]', gateway.passwordUser.name);
    await page.fill('#password-form input[name=password]', gateway.passwordUser.password);
    await page.click('#password-form button[type=submit]');
    await page.waitForSelector('#identity');
    assert.match(await page.textContent('#identity'), new RegExp(gateway.passwordUser.name));
    const cookies = await browser.context.cookies();
    const session = cookies.find((cookie) => cookie.name === 'weir_session');
    assert.ok(session, 'no weir_session cookie after sign-in');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    await page.screenshot({ path: screenshotPath('password-sign-in') });

    await page.click('#sign-out');
    await page.waitForSelector('#key-form');
  } finally {
    await browser.close();
  }
});

test('language switch shows Chinese', { skip }, async () => {
  const browser = await launch();
  try {
    const page = await browser.context.newPage();
    await signInWithKey(page, gateway.userKey);
    assert.equal(await page.textContent('#nav-chat'), 'Chat');
    await page.selectOption('#language', 'zh-CN');
    await page.waitForFunction(() => document.querySelector('#nav-chat')?.textContent === '对话');
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    assert.equal(await page.textContent('#new-chat'), '新对话');
    await page.screenshot({ path: screenshotPath('chat-zh-CN') });
  } finally {
    await browser.close();
  }
});

test('Chinese browser gets Chinese interface', { skip }, async () => {
  const browser = await launch({ locale: 'zh-CN' });
  try {
    const page = await browser.context.newPage();
    await page.goto(gateway.baseUrl);
    await page.waitForSelector('#key-form');
    assert.equal(await page.textContent('#key-form button[type=submit]'), '登录');
    await page.screenshot({ path: screenshotPath('sign-in-zh-CN') });
  } finally {
    await browser.close();
  }
});

test('admin key creation shows up in audit', { skip }, async () => {
  const browser = await launch();
  try {
    const page = await browser.context.newPage();
    await signInWithKey(page, gateway.adminKey);
    await page.click('#nav-admin');
    await page.click('#tab-keys');
    await page.waitForSelector('#create-key');
    await page.selectOption('#create-key select[name=user_id]', String(gateway.auditUser.id));
    await page.fill('#create-key input[name=name]', 'browser-test');
    await page.click('#create-key-submit');
    const key = (await page.textContent('#new-key-value', { timeout: 10000 })).trim();
    assert.match(key, /^wr-/);
    await page.screenshot({ path: screenshotPath('admin-new-key') });

    // A reload no longer shows the secret: it is shown once.
    await page.reload();
    await page.waitForSelector('#keys-table');
    assert.equal(await page.$('#new-key'), null);

    const marker = `audit-marker-${Date.now()}`;
    const response = await fetch(`${gateway.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: gateway.model, messages: [{ role: 'user', content: marker }] }),
    });
    assert.equal(response.status, 200, await response.text());

    await page.click('#tab-audit');
    await page.waitForSelector('#audit-filters');
    await page.fill('#audit-filters input[name=user]', gateway.auditUser.name);
    const prefix = key.slice(0, gateway.keyPrefixLength);
    // The audit writer batches records, so search until the request appears.
    await assert.doesNotReject(async () => {
      for (let attempt = 0; attempt < 20; attempt += 1) {
        await page.click('#audit-search');
        await page.waitForSelector('#audit-table');
        if ((await page.textContent('#audit-table')).includes(prefix)) return;
        await page.waitForTimeout(500);
      }
      throw new Error(`no audit row with key prefix ${prefix}`);
    });
    assert.match(await page.textContent('#audit-table'), /\/v1\/chat\/completions/);
    await page.screenshot({ path: screenshotPath('admin-audit'), fullPage: true });
  } finally {
    await browser.close();
  }
});

test('extension side panel answers over WebSocket', { skip }, async () => {
  const extension = join(root, 'extension', 'dist');
  assert.ok(existsSync(join(extension, 'manifest.json')), 'extension/dist is missing: run `make extension`');
  const browser = await launch({ extension });
  try {
    const worker = browser.context.serviceWorkers()[0] ?? await browser.context.waitForEvent('serviceworker');
    const extensionId = new URL(worker.url()).host;

    const options = await browser.context.newPage();
    await options.goto(`chrome-extension://${extensionId}/options.html`);
    await options.fill('#server-url', gateway.baseUrl);
    await options.fill('#api-key', gateway.viewerKey);
    await options.click('#save');
    await options.waitForFunction(() => document.querySelector('#status')?.textContent.length > 0);
    await options.click('#test');
    await options.waitForFunction(() => /models|模型/.test(document.querySelector('#status')?.textContent ?? ''));
    await options.screenshot({ path: screenshotPath('extension-options') });

    const panel = await browser.context.newPage();
    await panel.setViewportSize({ width: 400, height: 700 });
    await panel.goto(`chrome-extension://${extensionId}/sidepanel.html`);
    await panel.waitForSelector('#connection.connected');
    await panel.fill('#prompt', 'What is a weir?');
    await panel.click('#send');
    await panel.waitForSelector('.message.assistant .usage');
    assert.ok((await panel.textContent('.message.assistant')).trim().length > 0);
    await panel.screenshot({ path: screenshotPath('extension-side-panel') });

    // The context menu items hand their prompt over through chrome.storage.session.
    await worker.evaluate(() => chrome.storage.session.set({ pendingPrompt: { text: 'Explain: selected text', at: Date.now() } }));
    await panel.waitForFunction(() => document.querySelectorAll('.message.assistant .usage').length === 2);
    assert.match(await panel.textContent('#messages'), /Explain: selected text/);
    await panel.screenshot({ path: screenshotPath('extension-context-prompt') });
  } finally {
    await browser.close();
  }
});
