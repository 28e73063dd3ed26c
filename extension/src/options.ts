// Options page: the gateway URL and the API key, kept in chrome.storage.local.
import { loadSettings, localizePage, saveSettings, webSocketUrl } from './settings';
import { WeirSocket } from './weir_socket';

const form = document.getElementById('options') as HTMLFormElement;
const serverInput = document.getElementById('server-url') as HTMLInputElement;
const keyInput = document.getElementById('api-key') as HTMLInputElement;
const status = document.getElementById('status') as HTMLElement;

localizePage();
void loadSettings().then((settings) => {
  serverInput.value = settings.serverUrl;
  keyInput.value = settings.apiKey;
});

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void saveSettings({ serverUrl: serverInput.value.trim(), apiKey: keyInput.value.trim() })
    .then(() => (status.textContent = chrome.i18n.getMessage('saved')));
});

document.getElementById('test')?.addEventListener('click', () => {
  const socket = new WeirSocket(webSocketUrl(serverInput.value.trim()), keyInput.value.trim());
  status.textContent = chrome.i18n.getMessage('connecting');
  socket.connect()
    .then((ready) => {
      status.textContent = chrome.i18n.getMessage('connectionOk', [ready.user.name, String(ready.models.length)]);
      socket.close();
    })
    .catch((error) => (status.textContent = chrome.i18n.getMessage('errorPrefix', [error.message ?? String(error)])));
});
