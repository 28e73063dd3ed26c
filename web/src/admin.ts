// The admin console (role admin and above): users, teams, keys, models with
// upstream health, audit search and usage charts. Each tab loads its data when
// it is shown; the gateway enforces every permission, the UI only hides what
// the role cannot use.
import {
  ApiKey, AuditEvent, call, ListOf, Me, ModelConfig, Quota, Role, roleRank, Team, UsageRow, User,
} from './api';
import { stackedBarChart } from './charts';
import { formValues, h, replaceChildren } from './dom';
import { describeError } from './errors';
import { formatNumber, formatTime, t } from './i18n';

const tabs = ['users', 'teams', 'keys', 'models', 'audit', 'usage'] as const;
type Tab = (typeof tabs)[number];
const roles: Role[] = ['viewer', 'user', 'admin', 'superadmin'];

let identity: Me;

/** Mounts the console's tab bar and the tab named by `tab` into `container`. */
export function renderAdmin(container: HTMLElement, me: Me, tab: string): void {
  identity = me;
  const current: Tab = (tabs as readonly string[]).includes(tab) ? (tab as Tab) : 'users';
  const panel = h('section', { class: 'admin-panel', id: `admin-${current}` });
  replaceChildren(container,
    h('nav', { class: 'tabs' },
      tabs.map((name) => h('a', { href: `#/admin/${name}`, id: `tab-${name}`, class: name === current ? 'active' : '' },
        t(`admin.tab.${name}`))),
    ),
    panel,
  );
  const renderers: Record<Tab, (panel: HTMLElement) => Promise<void>> = {
    users: renderUsers, teams: renderTeams, keys: renderKeys, models: renderModels, audit: renderAudit, usage: renderUsage,
  };
  renderers[current](panel).catch((error) => showError(panel, error));
}

function showError(panel: HTMLElement, error: unknown): void {
  let status = panel.querySelector<HTMLElement>('.panel-error');
  if (!status) {
    status = h('p', { class: 'error panel-error', role: 'alert' });
    panel.prepend(status);
  }
  status.textContent = describeError(error);
}

/** Roles the caller may grant: an admin manages roles below admin, a superadmin every role. */
function grantableRoles(): Role[] {
  const own = roleRank[identity.user.role];
  return roles.filter((role) => own >= roleRank.superadmin || roleRank[role] < own);
}

function roleSelect(name: string, selected?: Role): HTMLSelectElement {
  return h('select', { name }, grantableRoles().map((role) =>
    h('option', { value: role, selected: role === selected }, t(`role.${role}`))));
}

function table(headers: string[], rows: (Node | string)[][], id: string): HTMLElement {
  return h('table', { class: 'data', id },
    h('thead', {}, h('tr', {}, headers.map((header) => h('th', {}, header)))),
    h('tbody', {}, rows.length === 0
      ? h('tr', {}, h('td', { colspan: headers.length, class: 'hint' }, t('admin.empty')))
      : rows.map((cells) => h('tr', {}, cells.map((cell) => h('td', {}, cell))))),
  );
}

/** Returns a time as Unix seconds, one of the two forms the gateway's time filters take. */
function utcSeconds(date: Date): string {
  return String(Math.floor(date.getTime() / 1000));
}

function numberOrUndefined(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : undefined;
}

// Users

async function renderUsers(panel: HTMLElement): Promise<void> {
  const [users, teams] = await Promise.all([
    call<ListOf<User>>('GET', '/admin/v1/users'),
    call<ListOf<Team>>('GET', '/admin/v1/teams').catch(() => ({ data: [] as Team[] })),
  ]);

  const createForm = h('form', {
    class: 'inline-form', id: 'create-user',
    onsubmit: (event: Event) => {
      event.preventDefault();
      const values = formValues(createForm);
      call('POST', '/admin/v1/users', { name: values.name, role: values.role, team: values.team, password: values.password })
        .then(() => renderUsers(panel))
        .catch((error) => showError(panel, error));
    },
  },
    h('h3', {}, t('admin.users.create')),
    h('input', { name: 'name', placeholder: t('admin.users.name'), required: true }),
    roleSelect('role', 'user'),
    h('select', { name: 'team' },
      h('option', { value: '' }, t('admin.users.noTeam')),
      teams.data.map((team) => h('option', { value: team.name }, team.name))),
    h('input', { name: 'password', type: 'password', placeholder: t('admin.users.passwordOptional'), autocomplete: 'new-password' }),
    h('button', { type: 'submit' }, t('admin.create')),
  );

  const rows = users.data.map((user) => [
    String(user.id), user.name, t(`role.${user.role}`), user.team ?? '',
    user.disabled ? t('admin.users.disabled') : t('admin.users.active'),
    quotaSummary(user.quota),
    userActions(panel, user),
  ]);
  replaceChildren(panel, createForm,
    table([t('admin.id'), t('admin.users.name'), t('admin.users.role'), t('admin.users.team'), t('admin.users.status'),
      t('admin.users.quota'), t('admin.actions')], rows, 'users-table'));
}

function quotaSummary(quota: Quota | undefined): string {
  if (!quota) return '';
  return t('admin.users.quotaSummary', {
    rps: quota.requests_per_second ?? '–', burst: quota.burst ?? '–',
    tpm: formatNumber(quota.tokens_per_minute) || '–', daily: formatNumber(quota.daily_tokens) || '–',
  });
}

function userActions(panel: HTMLElement, user: User): HTMLElement {
  const manageable = roleRank[identity.user.role] >= roleRank.superadmin || roleRank[user.role] < roleRank[identity.user.role];
  if (!manageable) return h('span', { class: 'hint' }, t('admin.users.notManageable'));

  const form = h('form', {
    class: 'row-form',
    onsubmit: (event: Event) => {
      event.preventDefault();
      const values = formValues(form);
      const quota: Quota = {
        requests_per_second: numberOrUndefined(values.rps), burst: numberOrUndefined(values.burst),
        tokens_per_minute: numberOrUndefined(values.tokens_per_minute), daily_tokens: numberOrUndefined(values.daily_tokens),
      };
      const patch: Record<string, unknown> = { role: values.role, disabled: values.disabled === 'true' };
      if (Object.values(quota).some((value) => value !== undefined)) patch.quota = quota;
      if (values.password) patch.password = values.password;
      call('PATCH', `/admin/v1/users/${encodeURIComponent(String(user.id))}`, patch)
        .then(() => renderUsers(panel))
        .catch((error) => showError(panel, error));
    },
  },
    roleSelect('role', user.role),
    h('select', { name: 'disabled' },
      h('option', { value: 'false', selected: !user.disabled }, t('admin.users.active')),
      h('option', { value: 'true', selected: user.disabled }, t('admin.users.disabled'))),
    h('input', { name: 'rps', type: 'number', step: 'any', min: 0, placeholder: t('admin.users.rps'), title: t('admin.users.rps'), value: user.quota?.requests_per_second ?? '' }),
    h('input', { name: 'burst', type: 'number', min: 0, placeholder: t('admin.users.burst'), title: t('admin.users.burst'), value: user.quota?.burst ?? '' }),
    h('input', { name: 'tokens_per_minute', type: 'number', min: 0, placeholder: t('admin.users.tpm'), title: t('admin.users.tpm'), value: user.quota?.tokens_per_minute ?? '' }),
    h('input', { name: 'daily_tokens', type: 'number', min: 0, placeholder: t('admin.users.daily'), title: t('admin.users.daily'), value: user.quota?.daily_tokens ?? '' }),
    h('input', { name: 'password', type: 'password', placeholder: t('admin.users.newPassword'), title: t('admin.users.newPassword'), autocomplete: 'new-password' }),
    h('button', { type: 'submit', class: 'small' }, t('admin.save')),
  );
  return form;
}

// Teams

async function renderTeams(panel: HTMLElement): Promise<void> {
  const teams = await call<ListOf<Team>>('GET', '/admin/v1/teams');
  const form = h('form', {
    class: 'inline-form', id: 'create-team',
    onsubmit: (event: Event) => {
      event.preventDefault();
      call('POST', '/admin/v1/teams', { name: formValues(form).name })
        .then(() => renderTeams(panel))
        .catch((error) => showError(panel, error));
    },
  },
    h('h3', {}, t('admin.teams.create')),
    h('input', { name: 'name', placeholder: t('admin.teams.name'), required: true }),
    h('button', { type: 'submit' }, t('admin.create')),
  );
  replaceChildren(panel, form,
    table([t('admin.id'), t('admin.teams.name')], teams.data.map((team) => [String(team.id), team.name]), 'teams-table'));
}

// Keys

async function renderKeys(panel: HTMLElement, newKey?: ApiKey): Promise<void> {
  const [users, keys, models] = await Promise.all([
    call<ListOf<User>>('GET', '/admin/v1/users'),
    call<ListOf<ApiKey>>('GET', '/admin/v1/keys'),
    call<ListOf<ModelConfig>>('GET', '/admin/v1/models').catch(() => ({ data: [] as ModelConfig[] })),
  ]);
  const userNames = new Map(users.data.map((user) => [String(user.id), user.name]));

  const form = h('form', {
    class: 'inline-form', id: 'create-key',
    onsubmit: (event: Event) => {
      event.preventDefault();
      const values = formValues(form);
      const selectedModels = Array.from(form.querySelectorAll<HTMLInputElement>('input[name="models"]:checked'))
        .map((box) => box.value);
      const userId = values.user_id === undefined ? undefined : (numberOrUndefined(values.user_id) ?? values.user_id);
      call<ApiKey>('POST', '/admin/v1/keys', {
        user_id: userId, name: values.name,
        expires_in_days: numberOrUndefined(values.expires_in_days),
        models: selectedModels.length ? selectedModels : undefined,
      })
        .then((created) => renderKeys(panel, created))
        .catch((error) => showError(panel, error));
    },
  },
    h('h3', {}, t('admin.keys.create')),
    h('select', { name: 'user_id' },
      h('option', { value: '' }, t('admin.keys.forMe')),
      users.data.map((user) => h('option', { value: String(user.id) }, `${user.name} (${t(`role.${user.role}`)})`))),
    h('input', { name: 'name', placeholder: t('admin.keys.name') }),
    h('input', { name: 'expires_in_days', type: 'number', min: 1, placeholder: t('admin.keys.expiresInDays') }),
    models.data.length > 0 && h('fieldset', { class: 'model-boxes' },
      h('legend', {}, t('admin.keys.models')),
      models.data.map((model) => h('label', {}, h('input', { type: 'checkbox', name: 'models', value: model.name }), model.name))),
    h('button', { type: 'submit', id: 'create-key-submit' }, t('admin.create')),
  );

  const shownOnce = newKey?.key
    ? h('div', { class: 'new-key', id: 'new-key', role: 'status' },
      h('strong', {}, t('admin.keys.shownOnce')),
      h('code', { id: 'new-key-value' }, newKey.key),
      h('button', { class: 'small secondary', onclick: () => void navigator.clipboard.writeText(newKey.key ?? '') }, t('chat.copy')))
    : null;

  const rows = keys.data.map((key) => [
    String(key.id), key.prefix, userNames.get(String(key.user_id)) ?? String(key.user_id), key.name ?? '',
    formatTime(key.created_at), key.expires_at ? formatTime(key.expires_at) : t('admin.keys.never'),
    (key.models ?? []).join(', ') || t('admin.keys.allModels'),
    key.revoked_at
      ? t('admin.keys.revokedAt', { time: formatTime(key.revoked_at) })
      : h('button', {
        class: 'small danger',
        onclick: () => {
          if (!confirm(t('admin.keys.confirmRevoke', { prefix: key.prefix }))) return;
          call('DELETE', `/admin/v1/keys/${encodeURIComponent(String(key.id))}`)
            .then(() => renderKeys(panel))
            .catch((error) => showError(panel, error));
        },
      }, t('admin.keys.revoke')),
  ]);
  replaceChildren(panel, shownOnce, form,
    table([t('admin.id'), t('admin.keys.prefix'), t('admin.keys.user'), t('admin.keys.name'), t('admin.keys.created'),
      t('admin.keys.expires'), t('admin.keys.models'), t('admin.actions')], rows, 'keys-table'));
}

// Models and upstreams

async function renderModels(panel: HTMLElement): Promise<void> {
  const models = await call<ListOf<ModelConfig>>('GET', '/admin/v1/models');
  const sections = models.data.map((model) => modelSection(panel, model));
  const isSuperadmin = identity.user.role === 'superadmin';
  replaceChildren(panel, isSuperadmin && createModelForm(panel), sections,
    models.data.length === 0 && h('p', { class: 'hint' }, t('admin.empty')));
}

function modelSection(panel: HTMLElement, model: ModelConfig): HTMLElement {
  const params = model.params ?? {};
  const form = h('form', {
    class: 'params-form',
    onsubmit: (event: Event) => {
      event.preventDefault();
      const values = formValues(form);
      const weights: Record<string, number> = {};
      form.querySelectorAll<HTMLInputElement>('input[data-upstream]').forEach((input) => {
        const weight = numberOrUndefined(input.value);
        if (weight !== undefined) weights[input.dataset.upstream as string] = weight;
      });
      call('PATCH', `/admin/v1/models/${encodeURIComponent(model.name)}`, {
        params: {
          default_max_tokens: numberOrUndefined(values.default_max_tokens),
          max_tokens_limit: numberOrUndefined(values.max_tokens_limit),
          temperature_min: numberOrUndefined(values.temperature_min),
          temperature_max: numberOrUndefined(values.temperature_max),
          system_prompt: values.system_prompt ?? '',
        },
        upstream_weights: weights,
      })
        .then(() => renderModels(panel))
        .catch((error) => showError(panel, error));
    },
  },
    h('div', { class: 'params-grid' },
      numberField('default_max_tokens', params.default_max_tokens),
      numberField('max_tokens_limit', params.max_tokens_limit),
      numberField('temperature_min', params.temperature_min, 'any'),
      numberField('temperature_max', params.temperature_max, 'any'),
      h('label', { class: 'wide' }, t('admin.models.system_prompt'),
        h('textarea', { name: 'system_prompt', rows: 2 }, params.system_prompt ?? '')),
    ),
    table([t('admin.models.upstream'), t('admin.models.state'), t('admin.models.weight'), t('admin.models.outstanding'),
      t('admin.models.latency'), t('admin.models.failures')],
    model.upstreams.map((upstream) => [
      upstream.url,
      h('span', { class: `state state-${upstream.state}` }, t(`admin.models.stateName.${upstream.state}`) === `admin.models.stateName.${upstream.state}`
        ? upstream.state : t(`admin.models.stateName.${upstream.state}`)),
      h('input', { type: 'number', min: 0, step: 'any', value: upstream.weight, 'data-upstream': String(upstream.id), class: 'weight' }),
      formatNumber(upstream.outstanding),
      t('admin.models.ms', { value: formatNumber(Math.round(upstream.ewma_ms ?? 0)) }),
      formatNumber(upstream.consecutive_failures),
    ]), `upstreams-${model.name}`),
    h('button', { type: 'submit', class: 'small' }, t('admin.save')),
  );
  return h('article', { class: 'model-card' }, h('h3', {}, model.name), form);
}

function numberField(name: string, value: number | undefined, step = '1'): HTMLElement {
  return h('label', {}, t(`admin.models.${name}`), h('input', { name, type: 'number', step, value: value ?? '' }));
}

function createModelForm(panel: HTMLElement): HTMLElement {
  const form = h('form', {
    class: 'inline-form', id: 'create-model',
    onsubmit: (event: Event) => {
      event.preventDefault();
      const values = formValues(form);
      const upstreams = (values.urls ?? '').split(/\s+/).filter(Boolean).map((url) => ({ url, weight: 1 }));
      call('POST', '/admin/v1/models', { name: values.name, upstreams })
        .then(() => renderModels(panel))
        .catch((error) => showError(panel, error));
    },
  },
    h('h3', {}, t('admin.models.create')),
    h('input', { name: 'name', placeholder: t('admin.models.name'), required: true }),
    h('input', { name: 'urls', placeholder: t('admin.models.urls'), required: true, size: 40 }),
    h('button', { type: 'submit' }, t('admin.create')),
  );
  return form;
}

// Audit search

async function renderAudit(panel: HTMLElement): Promise<void> {
  const results = h('div', { id: 'audit-results' });
  let cursor: string | null = null;
  let filters: Record<string, string> = {};

  const load = async (append: boolean) => {
    const query = new URLSearchParams({ ...filters, limit: '50' });
    if (append && cursor) query.set('cursor', cursor);
    const page = await call<{ data: AuditEvent[]; next_cursor: string | null }>('GET', `/admin/v1/audit?${query}`);
    cursor = page.next_cursor;
    const rows = page.data.map(auditRow);
    if (append) {
      results.querySelector('tbody')?.append(...rows.map((cells) => h('tr', {}, cells.map((cell) => h('td', {}, cell)))));
    } else {
      replaceChildren(results, table(auditHeaders(), rows, 'audit-table'));
    }
    results.querySelector('.more')?.remove();
    if (cursor) {
      results.append(h('button', { class: 'secondary more', onclick: () => load(true).catch((error) => showError(panel, error)) },
        t('admin.audit.more')));
    }
  };

  const form = h('form', {
    class: 'inline-form filters', id: 'audit-filters',
    onsubmit: (event: Event) => {
      event.preventDefault();
      filters = formValues(form);
      for (const name of ['since', 'until']) {
        if (filters[name]) filters[name] = utcSeconds(new Date(filters[name]));
      }
      load(false).catch((error) => showError(panel, error));
    },
  },
    h('input', { name: 'q', placeholder: t('admin.audit.text'), type: 'search' }),
    h('input', { name: 'user', placeholder: t('admin.audit.user') }),
    h('input', { name: 'model', placeholder: t('admin.audit.model') }),
    h('input', { name: 'status', placeholder: t('admin.audit.status'), type: 'number', min: 100, max: 599 }),
    h('label', {}, t('admin.audit.since'), h('input', { name: 'since', type: 'datetime-local' })),
    h('label', {}, t('admin.audit.until'), h('input', { name: 'until', type: 'datetime-local' })),
    h('button', { type: 'submit', id: 'audit-search' }, t('admin.audit.search')),
  );
  replaceChildren(panel, form, results);
  await load(false);
}

function auditHeaders(): string[] {
  return ['time', 'user', 'route', 'model', 'status', 'latency', 'tokens', 'request', 'response']
    .map((name) => t(`admin.audit.column.${name}`));
}

function auditRow(event: AuditEvent): (Node | string)[] {
  const tokens = t('admin.audit.tokens', {
    prompt: formatNumber(event.prompt_tokens), completion: formatNumber(event.completion_tokens),
    estimated: event.tokens_estimated ? t('admin.audit.estimated') : '',
  });
  return [
    formatTime(event.time / 1000),
    `${event.user ?? ''}${event.key_prefix ? ` (${event.key_prefix})` : ''}`,
    event.route,
    event.model ?? '',
    h('span', { class: event.status >= 400 ? 'status-error' : 'status-ok', title: event.error_code ?? '' },
      String(event.status), event.error_code ? ` ${event.error_code}` : ''),
    t('admin.models.ms', { value: formatNumber(Math.round(event.latency_ms ?? 0)) }),
    tokens,
    h('span', { class: 'summary' }, event.request_summary ?? ''),
    h('span', { class: 'summary' }, event.response_summary ?? ''),
  ];
}

// Usage charts

async function renderUsage(panel: HTMLElement): Promise<void> {
  const charts = h('div', { class: 'charts' });
  const form = h('form', {
    class: 'inline-form', id: 'usage-range',
    onsubmit: (event: Event) => {
      event.preventDefault();
      draw().catch((error) => showError(panel, error));
    },
  },
    h('label', {}, t('admin.audit.since'), h('input', { name: 'since', type: 'date' })),
    h('label', {}, t('admin.audit.until'), h('input', { name: 'until', type: 'date' })),
    h('button', { type: 'submit' }, t('admin.usage.show')),
  );

  const series = [
    { label: t('admin.usage.promptTokens'), className: 'bar-prompt' },
    { label: t('admin.usage.completionTokens'), className: 'bar-completion' },
  ];

  const draw = async () => {
    const values = formValues(form);
    const range: Record<string, string> = {};
    if (values.since) range.since = utcSeconds(new Date(`${values.since}T00:00:00`));
    if (values.until) range.until = utcSeconds(new Date(`${values.until}T23:59:59`));
    const groups = ['day', 'user', 'model'] as const;
    const results = await Promise.all(groups.map((group) =>
      call<ListOf<UsageRow>>('GET', `/admin/v1/usage?${new URLSearchParams({ group_by: group, ...range })}`)));
    replaceChildren(charts, groups.map((group, index) => {
      const rows = results[index].data.map((row) => ({ label: row.key, values: [row.prompt_tokens, row.completion_tokens] }));
      const requests = results[index].data.reduce((sum, row) => sum + row.requests, 0);
      return h('figure', { class: 'usage-chart', id: `usage-${group}` },
        h('figcaption', {}, t(`admin.usage.by.${group}`), ' · ', t('admin.usage.requests', { count: formatNumber(requests) })),
        rows.length ? stackedBarChart(rows, series, t(`admin.usage.by.${group}`)) : h('p', { class: 'hint' }, t('admin.empty')));
    }));
  };

  replaceChildren(panel, form, charts);
  await draw();
}
