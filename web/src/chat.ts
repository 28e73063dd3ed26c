// The chat page: conversation list (kept on the server for role user and
// above), model picker, streamed replies rendered as Markdown, and stop, copy
// and regenerate on each reply. A viewer chats without saved history.
import {
  call, ChatMessage, Conversation, ConversationSummary, ListOf, Me, roleRank, stream, Usage,
} from './api';
import { h, replaceChildren } from './dom';
import { describeError } from './errors';
import { formatNumber, formatTime, t } from './i18n';
import { renderMarkdown } from './markdown';

interface DisplayMessage {
  role: 'user' | 'assistant';
  content: string;
  usage?: Usage;
  streaming?: boolean;
  stopped?: boolean;
  error?: string;
}

interface ChatState {
  models: string[];
  model: string | null;
  conversations: ConversationSummary[];
  conversationId: number | string | null;
  messages: DisplayMessage[];
  abort: AbortController | null;
  totalUsage: Usage;
  status: string;
}

const state: ChatState = {
  models: [],
  model: null,
  conversations: [],
  conversationId: null,
  messages: [],
  abort: null,
  totalUsage: { prompt_tokens: 0, completion_tokens: 0 },
  status: '',
};
const modelStorage = 'weir.model';

// Elements of the mounted page; rebuilt by renderChat after a language switch.
let view: HTMLElement | null = null;
let identity: Me | null = null;
let messageList: HTMLElement | null = null;

function keepsHistory(): boolean {
  return identity !== null && roleRank[identity.user.role] >= roleRank.user;
}

/** Mounts the chat page into `container` and loads models and conversations once. */
export function renderChat(container: HTMLElement, me: Me): void {
  const firstMount = identity === null || identity.user.id !== me.user.id;
  view = container;
  identity = me;
  draw();
  if (firstMount) void loadInitialData();
}

async function loadInitialData(): Promise<void> {
  try {
    const models = await call<ListOf<{ id: string }>>('GET', '/v1/models');
    state.models = models.data.map((model) => model.id);
    const saved = localStorage.getItem(modelStorage);
    state.model = saved && state.models.includes(saved) ? saved : state.models[0] ?? null;
    if (keepsHistory()) await refreshConversations();
  } catch (error) {
    state.status = describeError(error);
  }
  draw();
}

async function refreshConversations(): Promise<void> {
  const list = await call<ListOf<ConversationSummary>>('GET', '/v1/conversations');
  state.conversations = list.data.sort((a, b) => (b.updated_at ?? 0) - (a.updated_at ?? 0));
}

async function openConversation(id: number | string): Promise<void> {
  if (state.abort) return;
  try {
    const conversation = await call<Conversation>('GET', `/v1/conversations/${encodeURIComponent(String(id))}`);
    state.conversationId = conversation.id;
    state.messages = conversation.messages
      .filter((message) => message.role === 'user' || message.role === 'assistant')
      .map((message) => ({ role: message.role as 'user' | 'assistant', content: message.content }));
    if (conversation.model && state.models.includes(conversation.model)) state.model = conversation.model;
    state.status = '';
  } catch (error) {
    state.status = describeError(error);
  }
  draw();
}

async function deleteConversation(id: number | string): Promise<void> {
  if (!confirm(t('chat.confirmDelete'))) return;
  try {
    await call('DELETE', `/v1/conversations/${encodeURIComponent(String(id))}`);
    if (state.conversationId === id) newConversation();
    await refreshConversations();
  } catch (error) {
    state.status = describeError(error);
  }
  draw();
}

function newConversation(): void {
  if (state.abort) return;
  state.conversationId = null;
  state.messages = [];
  state.status = '';
  draw();
}

function sidebar(): HTMLElement {
  if (!keepsHistory()) {
    return h('aside', { class: 'sidebar' },
      h('button', { id: 'new-chat', onclick: newConversation }, t('chat.new')),
      h('p', { class: 'hint' }, t('chat.viewerNoHistory')));
  }
  return h('aside', { class: 'sidebar' },
    h('button', { id: 'new-chat', onclick: newConversation }, t('chat.new')),
    h('h3', {}, t('chat.conversations')),
    state.conversations.length === 0 && h('p', { class: 'hint' }, t('chat.noConversations')),
    h('ul', { class: 'conversation-list', id: 'conversation-list' },
      state.conversations.map((conversation) =>
        h('li', { class: conversation.id === state.conversationId ? 'active' : '' },
          h('a', {
            href: '#/chat',
            title: formatTime(conversation.updated_at),
            onclick: (event: Event) => { event.preventDefault(); void openConversation(conversation.id); },
          }, conversation.title || t('chat.untitled')),
          h('button', {
            class: 'icon', title: t('chat.delete'), 'aria-label': t('chat.delete'),
            onclick: () => void deleteConversation(conversation.id),
          }, '×'),
        ),
      ),
    ),
  );
}

function modelPicker(): HTMLElement {
  return h('label', { class: 'model-picker' }, t('chat.model'),
    h('select', {
      id: 'model',
      disabled: state.models.length === 0,
      onchange: (event: Event) => {
        state.model = (event.target as HTMLSelectElement).value;
        localStorage.setItem(modelStorage, state.model);
      },
    },
      state.models.length === 0 && h('option', {}, t('chat.noModels')),
      state.models.map((model) => h('option', { value: model, selected: model === state.model }, model)),
    ),
  );
}

function usageLine(usage: Usage): string {
  return t('chat.usage', {
    prompt: formatNumber(usage.prompt_tokens),
    completion: formatNumber(usage.completion_tokens),
  });
}

async function copyText(text: string, button: HTMLButtonElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Clipboard API unavailable (an insecure origin): fall back to a selected textarea.
    const area = h('textarea', {}, text);
    document.body.appendChild(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
  button.textContent = t('chat.copied');
  setTimeout(() => (button.textContent = t('chat.copy')), 1500);
}

function messageElement(message: DisplayMessage, index: number): HTMLElement {
  const body = h('div', { class: 'content' });
  if (message.role === 'assistant') body.innerHTML = renderMarkdown(message.content);
  else body.textContent = message.content;

  const isLastAnswer = message.role === 'assistant' && index === state.messages.length - 1;
  const copyButton = h('button', { class: 'secondary small copy' }, t('chat.copy'));
  copyButton.addEventListener('click', () => void copyText(message.content, copyButton));

  const meta = message.role === 'assistant' && !message.streaming
    ? h('div', { class: 'meta' },
      message.usage && h('span', { class: 'usage' }, usageLine(message.usage)),
      message.stopped && h('span', { class: 'stopped' }, t('chat.stopped')),
      copyButton,
      isLastAnswer && !state.abort && h('button', {
        class: 'secondary small regenerate', onclick: () => void regenerate(),
      }, t('chat.regenerate')),
    )
    : null;

  return h('div', { class: `message ${message.role}${message.streaming ? ' streaming' : ''}`, 'data-index': index },
    h('div', { class: 'author' }, message.role === 'user' ? t('chat.you') : t('chat.assistant')),
    body,
    message.error && h('p', { class: 'error' }, message.error),
    meta,
  );
}

function composer(): HTMLElement {
  const input = h('textarea', {
    id: 'prompt', rows: 3, placeholder: t('chat.placeholder'),
    onkeydown: (event: Event) => {
      const key = event as KeyboardEvent;
      if (key.key === 'Enter' && !key.shiftKey && !key.isComposing) {
        key.preventDefault();
        form.requestSubmit();
      }
    },
  });
  const form = h('form', {
    class: 'composer',
    onsubmit: (event: Event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text || state.abort) return;
      input.value = '';
      void sendMessage(text);
    },
  },
    input,
    state.abort
      ? h('button', { type: 'button', id: 'stop', class: 'danger', onclick: () => state.abort?.abort() }, t('chat.stop'))
      : h('button', { type: 'submit', id: 'send', disabled: state.model === null }, t('chat.send')),
  );
  return form;
}

function draw(): void {
  if (!view) return;
  messageList = h('div', { class: 'messages', id: 'messages' },
    state.messages.length === 0 && h('p', { class: 'hint empty' }, t('chat.empty')),
    state.messages.map(messageElement),
  );
  replaceChildren(view,
    h('div', { class: 'chat' },
      sidebar(),
      h('section', { class: 'chat-main' },
        h('div', { class: 'chat-toolbar' },
          modelPicker(),
          h('span', { class: 'spacer' }),
          h('span', { class: 'usage total', id: 'total-usage' },
            t('chat.sessionUsage', { total: formatNumber(state.totalUsage.prompt_tokens + state.totalUsage.completion_tokens) })),
        ),
        messageList,
        state.status && h('p', { class: 'error', role: 'alert', id: 'chat-status' }, state.status),
        composer(),
      ),
    ),
  );
  messageList.scrollTop = messageList.scrollHeight;
}

// Redraws only the streaming message, once per animation frame, so that long
// replies do not rebuild the whole page for every delta.
let redrawPending = false;
function redrawLastMessage(): void {
  if (redrawPending) return;
  redrawPending = true;
  requestAnimationFrame(() => {
    redrawPending = false;
    if (!messageList) return;
    const index = state.messages.length - 1;
    const old = messageList.querySelector(`[data-index="${index}"]`);
    const fresh = messageElement(state.messages[index], index);
    if (old) old.replaceWith(fresh);
    else messageList.appendChild(fresh);
    messageList.scrollTop = messageList.scrollHeight;
  });
}

function addUsage(usage: Usage): void {
  state.totalUsage = {
    prompt_tokens: state.totalUsage.prompt_tokens + (usage.prompt_tokens ?? 0),
    completion_tokens: state.totalUsage.completion_tokens + (usage.completion_tokens ?? 0),
  };
}

/** Streams one reply from `path` into `answer`; marks it stopped or failed as it ends. */
async function streamAnswer(answer: DisplayMessage, path: string, body: unknown): Promise<void> {
  state.abort = new AbortController();
  answer.streaming = true;
  draw();
  try {
    await stream(path, body, (chunk) => {
      const delta = chunk.choices?.[0]?.delta?.content;
      if (typeof delta === 'string') answer.content += delta;
      if (chunk.usage) answer.usage = chunk.usage;
      redrawLastMessage();
    }, state.abort.signal);
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') answer.stopped = true;
    else answer.error = describeError(error);
  } finally {
    answer.streaming = false;
    state.abort = null;
    if (answer.usage) addUsage(answer.usage);
  }
}

async function ensureConversation(firstMessage: string): Promise<number | string> {
  if (state.conversationId) return state.conversationId;
  const title = firstMessage.length > 40 ? `${firstMessage.slice(0, 40)}…` : firstMessage;
  const conversation = await call<Conversation>('POST', '/v1/conversations', { title, model: state.model });
  state.conversationId = conversation.id;
  return conversation.id;
}

async function sendMessage(text: string): Promise<void> {
  state.status = '';
  state.messages.push({ role: 'user', content: text });
  const answer: DisplayMessage = { role: 'assistant', content: '' };

  if (keepsHistory()) {
    let id: number | string;
    try {
      id = await ensureConversation(text);
    } catch (error) {
      state.status = describeError(error);
      draw();
      return;
    }
    state.messages.push(answer);
    await streamAnswer(answer, `/v1/conversations/${encodeURIComponent(String(id))}/messages`,
      { content: text, model: state.model, stream: true });
    await refreshConversations().catch(() => undefined);
  } else {
    const history: ChatMessage[] = state.messages.map(({ role, content }) => ({ role, content }));
    state.messages.push(answer);
    await streamAnswer(answer, '/v1/chat/completions', {
      model: state.model, messages: history, stream: true, stream_options: { include_usage: true },
    });
  }
  draw();
}

async function regenerate(): Promise<void> {
  const last = state.messages[state.messages.length - 1];
  if (!last || last.role !== 'assistant' || state.abort) return;
  state.messages.pop();
  const history: ChatMessage[] = state.messages.map(({ role, content }) => ({ role, content }));
  const answer: DisplayMessage = { role: 'assistant', content: '' };
  state.messages.push(answer);
  // NOTE: the conversation API has no call to replace a stored reply, so a
  // regenerated reply is shown here but the server's history keeps the first one.
  await streamAnswer(answer, '/v1/chat/completions', {
    model: state.model, messages: history, stream: true, stream_options: { include_usage: true },
  });
  draw();
}
