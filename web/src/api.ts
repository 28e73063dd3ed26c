// HTTP access to the gateway from the browser: the API key (kept in
// localStorage) or the session cookie set by /auth/login, JSON calls that
// turn the error body into ApiError, and server-sent event streams.

const keyStorage = 'weir.apiKey';

export interface ErrorBody {
  message: string;
  type?: string;
  code?: string | null;
  param?: string | null;
}

/** A failed call: the HTTP status (0 when the network failed) and the gateway's error object. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
    readonly retryAfter: number | null = null,
  ) {
    super(body.message);
  }
}

export function apiKey(): string | null {
  return localStorage.getItem(keyStorage);
}

export function setApiKey(key: string | null): void {
  if (key) localStorage.setItem(keyStorage, key);
  else localStorage.removeItem(keyStorage);
}

function headers(json: boolean): Record<string, string> {
  const result: Record<string, string> = { Accept: 'application/json' };
  if (json) result['Content-Type'] = 'application/json';
  const key = apiKey();
  if (key) result.Authorization = `Bearer ${key}`;
  return result;
}

async function send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  try {
    return await fetch(path, {
      method,
      headers: headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      signal,
    });
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw new ApiError(0, { message: String(error), type: 'network_error' });
  }
}

async function errorFrom(response: Response): Promise<ApiError> {
  let body: ErrorBody = { message: `${response.status} ${response.statusText}` };
  try {
    const decoded = await response.json();
    if (decoded && typeof decoded.error === 'object') body = decoded.error;
  } catch {
    // A non-JSON error page: keep the status line as the message.
  }
  const retryAfter = response.headers.get('Retry-After');
  return new ApiError(response.status, body, retryAfter === null ? null : Number(retryAfter));
}

/** Sends one JSON call and returns the decoded body; throws ApiError for an error status. */
export async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await send(method, path, body);
  if (!response.ok) throw await errorFrom(response);
  return (await response.json()) as T;
}

/**
 * Sends a streaming call and passes each decoded `data:` event to `onEvent`
 * until `[DONE]`. An `error` object inside the stream is thrown as ApiError.
 */
export async function stream(
  path: string,
  body: unknown,
  onEvent: (event: any) => void,
  signal: AbortSignal,
): Promise<void> {
  const response = await send('POST', path, body, signal);
  if (!response.ok) throw await errorFrom(response);
  if (!response.body) throw new ApiError(response.status, { message: 'empty stream' });

  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let boundary: number;
    while ((boundary = buffer.search(/\r?\n\r?\n/)) >= 0) {
      const rawEvent = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary).replace(/^\r?\n\r?\n/, '');
      const data = rawEvent
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data === '') continue;
      if (data === '[DONE]') return;
      const event = JSON.parse(data);
      if (event && typeof event.error === 'object') throw new ApiError(response.status, event.error);
      onEvent(event);
    }
  }
}

// Response shapes of the routes the UI calls.

export type Role = 'viewer' | 'user' | 'admin' | 'superadmin';

export interface Me {
  user: { id: number | string; name: string; role: Role; team: string | null };
  key: { id: number | string; prefix: string } | null;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
  created_at?: number;
}

// Times from the gateway are Unix seconds, except AuditEvent.time (milliseconds).
export interface ConversationSummary {
  id: number | string;
  title: string | null;
  model: string | null;
  created_at: number;
  updated_at: number;
}

export interface Conversation extends ConversationSummary {
  messages: ChatMessage[];
}

/** Per-user overrides of the role's limits; null means the role default applies. */
export interface Quota {
  requests_per_second?: number | null;
  burst?: number | null;
  tokens_per_minute?: number | null;
  daily_tokens?: number | null;
}

export interface User {
  id: number | string;
  name: string;
  role: Role;
  team: string | null;
  created_at: number;
  disabled: boolean;
  has_password?: boolean;
  quota?: Quota;
}

export interface Team {
  id: number | string;
  name: string;
}

export interface ApiKey {
  id: number | string;
  prefix: string;
  user_id: number | string;
  name: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at?: number | null;
  models: string[] | null;
  key?: string;
}

export interface AuditEvent {
  id: number | string;
  time: number;
  request_id: string;
  user: string | null;
  team: string | null;
  key_prefix: string | null;
  role: string | null;
  client_ip: string;
  route: string;
  model: string | null;
  upstream: string | null;
  status: number;
  error_code: string | null;
  latency_ms: number;
  ttft_ms: number | null;
  prompt_tokens: number;
  completion_tokens: number;
  tokens_estimated: boolean;
  request_summary: string | null;
  response_summary: string | null;
}

export interface ModelParams {
  default_max_tokens?: number;
  max_tokens_limit?: number;
  temperature_min?: number;
  temperature_max?: number;
  system_prompt?: string | null;
}

export interface Upstream {
  id: number | string;
  url: string;
  weight: number;
  state: string;
  outstanding: number;
  ewma_ms: number;
  consecutive_failures: number;
}

export interface ModelConfig {
  name: string;
  params: ModelParams;
  upstreams: Upstream[];
}

export interface UsageRow {
  key: string;
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
}

export interface ListOf<T> {
  data: T[];
}

/** Role order for "this role and above" checks. */
export const roleRank: Record<Role, number> = { viewer: 0, user: 1, admin: 2, superadmin: 3 };
