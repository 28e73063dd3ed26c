// Entry point of the web UI: sign-in, the header, and hash routing between
// the chat page (#/chat) and the admin console (#/admin/<tab>).
import { ApiError, apiKey, call, Me, roleRank, setApiKey } from './api';
import { renderAdmin } from './admin';
import { renderChat } from './chat';
import { h, replaceChildren } from './dom';
import { describeError } from './errors';
import { Locale, locale, onLocaleChange, setLocale, t } from './i18n';

const root = document.getElementById('app') as HTMLElement;
let me: Me | null = null;

async function loadIdentity(): Promise<Me | null> {
  try {
    return await call<Me>('GET', '/admin/v1/me');
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

function languagePicker(): HTMLElement {
  const select = h('select', {
    id: 'language',
    'aria-label': t('header.language'),
    onchange: (event: Event) => setLocale((event.target as HTMLSelectElement).value as Locale),
  },
    h('option', { value: 'en', selected: locale() === 'en' }, 'English'),
    h('option', { value: 'zh-CN', selected: locale() === 'zh-CN' }, '简体中文'),
  );
  return select;
}

async function signOut(): Promise<void> {
  if (!apiKey()) {
    try {
      await call('POST', '/auth/logout');
    } catch {
      // The session may already have expired; signing out locally is enough then.
    }
  }
  setApiKey(null);
  me = null;
  location.hash = '#/chat';
  render();
}

function header(): HTMLElement {
  const isAdmin = me !== null && roleRank[me.user.role] >= roleRank.admin;
  return h('header', { class: 'topbar' },
    h('span', { class: 'brand' }, t('app.title')),
    me && h('nav', {},
      h('a', { href: '#/chat', id: 'nav-chat' }, t('nav.chat')),
      isAdmin && h('a', { href: '#/admin/users', id: 'nav-admin' }, t('nav.admin')),
      h('a', { href: '/docs/', target: '_blank', rel: 'noopener' }, t('nav.apiDocs')),
    ),
    h('span', { class: 'spacer' }),
    languagePicker(),
    me && h('span', { class: 'identity', id: 'identity' },
      t('header.signedInAs', { name: me.user.name, role: t(`role.${me.user.role}`) })),
    me && h('button', { id: 'sign-out', class: 'secondary', onclick: () => void signOut() }, t('header.signOut')),
  );
}

function signInView(message: string | null): HTMLElement {
  const status = h('p', { class: 'error', id: 'sign-in-error', role: 'alert' }, message ?? '');

  const afterSignIn = async () => {
    me = await loadIdentity();
    if (me === null) {
      setApiKey(null);
      status.textContent = t('signIn.rejected');
      return;
    }
    render();
  };

  const keyForm = h('form', {
    id: 'key-form',
    onsubmit: (event: Event) => {
      event.preventDefault();
      const key = (keyForm.elements.namedItem('key') as HTMLInputElement).value.trim();
      if (!key) return;
      setApiKey(key);
      afterSignIn().catch((error) => (status.textContent = describeError(error)));
    },
  },
    h('h2', {}, t('signIn.withKey')),
    h('label', {}, t('signIn.apiKey'), h('input', { name: 'key', type: 'password', autocomplete: 'off', placeholder: 'wr-...', required: true })),
    h('button', { type: 'submit' }, t('signIn.submit')),
  );

  const passwordForm = h('form', {
    id: 'password-form',
    onsubmit: (event: Event) => {
      event.preventDefault();
      const username = (passwordForm.elements.namedItem('username') as HTMLInputElement).value.trim();
      const password = (passwordForm.elements.namedItem('password') as HTMLInputElement).value;
      setApiKey(null);
      call('POST', '/auth/login', { username, password })
        .then(afterSignIn)
        .catch((error) => (status.textContent = describeError(error)));
    },
  },
    h('h2', {}, t('signIn.withPassword')),
    h('label', {}, t('signIn.username'), h('input', { name: 'username', autocomplete: 'username', required: true })),
    h('label', {}, t('signIn.password'), h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('button', { type: 'submit' }, t('signIn.submit')),
  );

  return h('main', { class: 'sign-in' },
    h('h1', {}, t('signIn.title')),
    h('div', { class: 'sign-in-forms' }, keyForm, passwordForm),
    status,
  );
}

function render(): void {
  document.title = t('app.title');
  if (me === null) {
    replaceChildren(root, header(), signInView(null));
    return;
  }
  const [, section, tab] = location.hash.split('/');
  const view = h('main', { class: 'view' });
  replaceChildren(root, header(), view);
  if (section === 'admin' && roleRank[me.user.role] >= roleRank.admin) {
    renderAdmin(view, me, tab || 'users');
  } else {
    renderChat(view, me);
  }
}

async function start(): Promise<void> {
  document.documentElement.lang = locale();
  onLocaleChange(render);
  window.addEventListener('hashchange', render);
  try {
    me = await loadIdentity();
  } catch (error) {
    replaceChildren(root, header(), signInView(describeError(error)));
    return;
  }
  render();
}

void start();
