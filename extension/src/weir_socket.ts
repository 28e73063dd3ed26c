// Client side of Weir's WebSocket protocol (docs/websocket.md): authenticate
// with an `auth` message, stream chat replies as `delta` messages ending in
// `done`, `cancel` by request id, and reply to the server's heartbeat `ping`.

export interface ErrorBody {
  message: string;
  type?: string;
  code?: string | null;
  param?: string | null;
}

export interface Ready {
  user: { name: string; role: string };
  models: string[];
}

export interface ChatCallbacks {
  onDelta: (text: string) => void;
  onDone: (usage: { prompt_tokens: number; completion_tokens: number } | null) => void;
  onError: (error: ErrorBody) => void;
}

export class WeirSocket {
  private socket: WebSocket | null = null;
  private nextId = 1;
  private readonly chats = new Map<string, ChatCallbacks>();

  /** Called when the connection closes for any reason after it was ready. */
  onClose: () => void = () => {};

  constructor(private readonly url: string, private readonly apiKey: string) {}

  /** Opens the socket and authenticates; resolves with the `ready` message or rejects with the error. */
  connect(): Promise<Ready> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url);
      this.socket = socket;
      let ready = false;

      socket.onopen = () => socket.send(JSON.stringify({ type: 'auth', api_key: this.apiKey }));
      socket.onerror = () => {
        if (!ready) reject({ message: `cannot connect to ${this.url}`, type: 'network_error' } satisfies ErrorBody);
      };
      socket.onclose = (event) => {
        if (!ready) reject({ message: event.reason || `connection closed (code ${event.code})`, type: 'network_error' });
        for (const callbacks of this.chats.values()) {
          callbacks.onError({ message: 'connection closed', type: 'network_error' });
        }
        this.chats.clear();
        this.onClose();
      };
      socket.onmessage = (event) => {
        const message = JSON.parse(String(event.data));
        if (message.type === 'ready') {
          ready = true;
          resolve({ user: message.user, models: message.models ?? [] });
        } else if (message.type === 'error' && !ready && !message.id) {
          reject(message.error);
        } else {
          this.dispatch(message);
        }
      };
    });
  }

  private dispatch(message: any): void {
    if (message.type === 'ping') {
      this.socket?.send(JSON.stringify({ type: 'pong' }));
      return;
    }
    const callbacks = message.id ? this.chats.get(message.id) : undefined;
    if (!callbacks) return;
    if (message.type === 'delta') {
      callbacks.onDelta(message.content ?? '');
    } else if (message.type === 'done' || message.type === 'cancelled') {
      this.chats.delete(message.id);
      callbacks.onDone(message.usage ?? null);
    } else if (message.type === 'error') {
      this.chats.delete(message.id);
      callbacks.onError(message.error);
    }
  }

  /** Sends a chat request; returns its id, which `cancel` takes. */
  chat(model: string, messages: { role: string; content: string }[], callbacks: ChatCallbacks): string {
    const id = `c${this.nextId++}`;
    this.chats.set(id, callbacks);
    this.socket?.send(JSON.stringify({ type: 'chat', id, model, messages }));
    return id;
  }

  cancel(id: string): void {
    this.socket?.send(JSON.stringify({ type: 'cancel', id }));
  }

  close(): void {
    this.socket?.close(1000, 'closed by the user');
  }
}
