// The extension's settings, kept in chrome.storage.local.

export interface Settings {
  serverUrl: string;
  apiKey: string;
  model: string;
}

const defaults: Settings = { serverUrl: 'http://127.0.0.1:8080', apiKey: '', model: '' };

export async function loadSettings(): Promise<Settings> {
  const stored = await chrome.storage.local.get(Object.keys(defaults));
  return { ...defaults, ...stored } as Settings;
}

export async function saveSettings(changes: Partial<Settings>): Promise<void> {
  await chrome.storage.local.set(changes);
}

/** Returns the WebSocket URL of the gateway at `serverUrl` (http becomes ws, https becomes wss). */
export function webSocketUrl(serverUrl: string): string {
  const url = new URL(serverUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/ws`;
  return url.toString();
}

/** Fills every element's text, placeholder or title from the extension's _locales. */
export function localizePage(): void {
  document.documentElement.lang = chrome.i18n.getUILanguage();
  for (const element of document.querySelectorAll<HTMLElement>('[data-i18n]')) {
    element.textContent = chrome.i18n.getMessage(element.dataset.i18n as string);
  }
  for (const element of document.querySelectorAll<HTMLInputElement>('[data-i18n-placeholder]')) {
    element.placeholder = chrome.i18n.getMessage(element.dataset.i18nPlaceholder as string);
  }
  for (const element of document.querySelectorAll<HTMLElement>('[data-i18n-title]')) {
    element.title = chrome.i18n.getMessage(element.dataset.i18nTitle as string);
  }
}
