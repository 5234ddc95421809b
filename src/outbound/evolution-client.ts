/**
 * Evolution API's send side: `POST {EVOLUTION_API_URL}/message/sendText/{instance}` and
 * `/message/sendMedia/{instance}` with the `apikey` header. The answer's `key.id` is the message's
 * id, which its later `messages.update` acks carry as `keyId`.
 */
export type EvolutionSendBody =
  | { kind: 'text'; number: string; text: string }
  | {
      kind: 'media';
      number: string;
      mediatype: 'image' | 'video' | 'audio' | 'document';
      media: string;
      mimetype?: string;
      caption?: string;
      fileName?: string;
    };

export class EvolutionApiError extends Error {
  constructor(
    readonly httpStatus: number | null,
    /** transient: retried (5xx, 429, timeouts, network, a disconnected instance); permanent: not. */
    readonly kind: 'transient' | 'permanent',
    message: string,
  ) {
    super(message);
    this.name = 'EvolutionApiError';
  }
}

export class EvolutionClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {}

  async send(instance: string, apikey: string, body: EvolutionSendBody): Promise<{ id: string }> {
    const { kind, ...payload } = body;
    const path = kind === 'text' ? 'sendText' : 'sendMedia';
    const url = `${this.baseUrl.replace(/\/+$/, '')}/message/${path}/${encodeURIComponent(instance)}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', apikey },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      const name = (err as Error).name;
      throw new EvolutionApiError(null, 'transient', name === 'TimeoutError' ? 'timeout' : 'network error');
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      // 401/403 are a wrong apikey: retried (an operator fixes the key) with the circuit counting them.
      // An instance whose phone is offline refuses with Baileys' "Connection Closed": it comes back.
      const transient =
        res.status >= 500 ||
        res.status === 429 ||
        res.status === 401 ||
        res.status === 403 ||
        /connection closed|not connected/i.test(text);
      throw new EvolutionApiError(
        res.status,
        transient ? 'transient' : 'permanent',
        `HTTP ${res.status}: ${errorText(text)}`,
      );
    }
    const id = readId(text);
    if (!id) throw new EvolutionApiError(res.status, 'transient', 'answer without key.id');
    return { id };
  }
}

function readId(text: string): string | null {
  try {
    const v = JSON.parse(text) as { key?: { id?: unknown } };
    return typeof v.key?.id === 'string' && v.key.id.length > 0 ? v.key.id : null;
  } catch {
    return null;
  }
}

/** Evolution's error body `{status, error, response: {message}}`, shortened; never the request. */
function errorText(text: string): string {
  try {
    const v = JSON.parse(text) as { error?: unknown; response?: { message?: unknown } };
    const m = v.response?.message;
    return String(Array.isArray(m) ? m.join('; ') : (m ?? v.error ?? '')).slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}
