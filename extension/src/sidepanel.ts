// Side panel chat over the gateway's WebSocket. The history lives in the panel
// (the model API is used, not server conversations), so every role that may
// chat can use it. Prompts from the context menu arrive through
// chrome.storage.session and are sent as soon as the socket is ready.
import { renderMarkdown } from '../../web/src/markdown';
import { loadSettings, localizePage, saveSettings, webSocketUrl } from './settings';
import { ErrorBody, WeirSocket } from './weir_socket';

const messagesElement = document.getElementById('messages') as HTMLElement;
const errorElement = document.getElementById('error') as HTMLElement;
const connectionElement = document.getElementById('connection') as HTMLElement;
const modelSelect = document.getElementById('model') as HTMLSelectElement;
const promptInput = document.getElementById('prompt') as HTMLTextAreaElement;
const sendButton = document.getElementById('send') as HTMLButtonElement;
const stopButton = document.getElementById('stop') as HTMLButtonElement;
const form = document.getElementById('composer') as HTMLFormElement;

const history: { role: 'user' | 'assistant'; content: string }[] = [];
let socket: WeirSocket | null = null;
let activeChat: string | null = null;
let ready: Promise<void> | null = null;

function message(key: string, substitutions: string[] = []): string {
  return chrome.i18n.getMessage(key, substitutions);
}

function showError(error: ErrorBody | string): void {
  errorElement.textContent = typeof error === 'string' ? error : message('errorPrefix', [error.message]);
}

function setConnection(state: 'connecting' | 'connected' | 'disconnected' | 'notConfigured'): void {
  connectionElement.textContent = message(state);
  connectionElement.className = `status ${state}`;
}

function addMessage(role: 'user' | 'assistant', text: string): HTMLElement {
  const element = document.createElement('div');
  element.className = `message ${role}`;
  if (role === 'user') element.textContent = text;
  messagesElement.appendChild(element);
  messagesElement.scrollTop = messagesElement.scrollHeight;
  return element;
}

async function connect(): Promise<void> {
  const settings = await loadSettings();
  if (!settings.apiKey) {
    setConnection('notConfigured');
    throw message('notConfigured');
  }
  setConnection('connecting');
  socket = new WeirSocket(webSocketUrl(settings.serverUrl), settings.apiKey);
  socket.onClose = () => {
    setConnection('disconnected');
    socket = null;
    ready = null;
  };
  const info = await socket.connect();
  setConnection('connected');
  modelSelect.replaceChildren(...info.models.map((model) => new Option(model, model, false, model === settings.model)));
  if (info.models.length === 0) modelSelect.replaceChildren(new Option(message('noModels'), ''));
}

function ensureConnected(): Promise<void> {
  if (!ready) {
    ready = connect().catch((error) => {
      ready = null;
      showError(error);
      throw error;
    });
  }
  return ready;
}

function setBusy(busy: boolean): void {
  sendButton.hidden = busy;
  stopButton.hidden = !busy;
}

async function ask(text: string): Promise<void> {
  errorElement.textContent = '';
  try {
    await ensureConnected();
  } catch {
    return;
  }
  if (!socket || activeChat) return;

  history.push({ role: 'user', content: text });
  addMessage('user', text);
  const answerElement = addMessage('assistant', '');
  let answer = '';
  setBusy(true);

  activeChat = socket.chat(modelSelect.value, history.slice(), {
    onDelta: (delta) => {
      answer += delta;
      answerElement.innerHTML = renderMarkdown(answer);
      messagesElement.scrollTop = messagesElement.scrollHeight;
    },
    onDone: (usage) => {
      history.push({ role: 'assistant', content: answer });
      if (usage) {
        const line = document.createElement('div');
        line.className = 'usage';
        line.textContent = message('usage', [String(usage.prompt_tokens), String(usage.completion_tokens)]);
        answerElement.appendChild(line);
      }
      activeChat = null;
      setBusy(false);
    },
    onError: (error) => {
      showError(error);
      history.pop();
      activeChat = null;
      setBusy(false);
    },
  });
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = promptInput.value.trim();
  if (!text) return;
  promptInput.value = '';
  void ask(text);
});

promptInput.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

stopButton.addEventListener('click', () => {
  if (socket && activeChat) socket.cancel(activeChat);
});

modelSelect.addEventListener('change', () => void saveSettings({ model: modelSelect.value }));

async function takePendingPrompt(): Promise<void> {
  const stored = await chrome.storage.session.get('pendingPrompt');
  const pendingPrompt = stored.pendingPrompt as { text?: string } | undefined;
  if (!pendingPrompt?.text) return;
  await chrome.storage.session.remove('pendingPrompt');
  await ask(pendingPrompt.text);
}

chrome.storage.onChanged.addListener((changes, area) => {
  if (area === 'session' && changes.pendingPrompt?.newValue) void takePendingPrompt();
  if (area === 'local' && (changes.apiKey || changes.serverUrl)) {
    socket?.close();
    void ensureConnected().catch(() => undefined);
  }
});

localizePage();
void ensureConnected().then(takePendingPrompt, () => undefined);
