import { GraphApiError, classifyGraphFailure } from './graph-errors.js';
import { postJson, type PostResult } from './http-pool.js';

export interface GraphClientOptions {
  baseUrl: string;
  version: string;
  accessToken: string;
  timeoutMs: number;
}

interface MetaErrorBody {
  error?: { code?: number; message?: string; error_user_title?: string; error_data?: { details?: string } };
}

/**
 * The Cloud API messages endpoint with an explicit timeout and a normalised error: every failure
 * becomes a GraphApiError carrying HTTP status, Meta's code and how to react to it.
 */
export class GraphClient {
  constructor(private readonly options: GraphClientOptions) {}

  async sendMessage(phoneNumberId: string, body: Record<string, unknown>): Promise<{ wamid: string }> {
    const url = `${this.options.baseUrl.replace(/\/$/, '')}/${this.options.version}/${encodeURIComponent(phoneNumberId)}/messages`;
    let res: PostResult;
    try {
      res = await postJson(url, { authorization: `Bearer ${this.options.accessToken}` }, JSON.stringify(body), {
        timeoutMs: this.options.timeoutMs,
      });
    } catch (err) {
      const name = (err as Error)?.name;
      throw new GraphApiError(
        null,
        null,
        name === 'TimeoutError' ? 'timeout' : `network: ${(err as Error)?.message ?? 'error'}`,
        'transient',
      );
    }
    const text = res.text;
    if (res.status >= 200 && res.status < 300) {
      const wamid = safeJson<{ messages?: { id?: string }[] }>(text)?.messages?.[0]?.id;
      if (typeof wamid === 'string' && wamid.length > 0) return { wamid };
      throw new GraphApiError(res.status, null, 'success response without a message id', 'transient');
    }
    const error = safeJson<MetaErrorBody>(text)?.error;
    const code = typeof error?.code === 'number' ? error.code : null;
    const title = error?.error_user_title ?? error?.message ?? `HTTP ${res.status}`;
    const details = typeof error?.error_data?.details === 'string' ? error.error_data.details : null;
    throw new GraphApiError(res.status, code, title, classifyGraphFailure(res.status, code), details);
  }
}

function safeJson<T>(text: string): T | null {
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}
