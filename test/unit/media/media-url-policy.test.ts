import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config.js';
import { AppError } from '../../../src/errors.js';
import { GraphMediaClient } from '../../../src/media/graph-media-client.js';
import { hostAllowed, mediaUrlPolicy } from '../../../src/media/media-url-policy.js';

const TOKEN = 'graph-access-token-4b1e9c07a3f2d856';
const production = (extra: Record<string, string> = {}) =>
  parseConfig({
    NODE_ENV: 'production',
    WHATSAPP_APP_SECRET: 'app-secret-0a9e3c7f1b5d2846e8c1f07b',
    WHATSAPP_VERIFY_TOKEN: 'verify-token-6c2f0e8a4d1b9375a0e4',
    WHATSAPP_ACCESS_TOKEN: TOKEN,
    MEDIA_STORAGE: 'off',
    ...extra,
  });

const refusal = (policy: (url: string) => void, url: string): string | null => {
  try {
    policy(url);
    return null;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('MEDIA_REJECTED');
    return (err as AppError).message;
  }
};

describe('media download URL policy', () => {
  it("when in production, then only https URLs on Meta's media hosts are accepted", () => {
    const policy = mediaUrlPolicy(production());
    expect(refusal(policy, 'https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1&ext=2&hash=3')).toBeNull();
    expect(refusal(policy, 'https://scontent.xx.fbcdn.net/v/t1/file.jpg')).toBeNull();
    expect(refusal(policy, 'http://lookaside.fbsbx.com/whatsapp_business/attachments/?mid=1')).toMatch(
      /http:\/\/ is not https/,
    );
    expect(refusal(policy, 'https://attacker.example/steal')).toMatch(
      /host attacker\.example is not in MEDIA_ALLOWED_HOSTS/,
    );
    expect(refusal(policy, 'https://lookaside.fbsbx.com.attacker.example/x')).toMatch(/not in MEDIA_ALLOWED_HOSTS/);
    expect(refusal(policy, 'https://fbcdn.net.evil/x')).toMatch(/not in MEDIA_ALLOWED_HOSTS/);
    expect(refusal(policy, 'http://127.0.0.1:4010/media/1')).toMatch(/not https/);
    expect(refusal(policy, 'file:///etc/passwd')).toMatch(/not an http\(s\) URL/);
  });

  it('when MEDIA_ALLOWED_HOSTS is set, then it replaces the default list', () => {
    const policy = mediaUrlPolicy(production({ MEDIA_ALLOWED_HOSTS: 'media.example.net' }));
    expect(refusal(policy, 'https://media.example.net/a')).toBeNull();
    expect(refusal(policy, 'https://lookaside.fbsbx.com/a')).toMatch(/not in MEDIA_ALLOWED_HOSTS/);
  });

  it('when ALLOW_LOCAL_GRAPH_SIMULATOR=true in production, then plain http is accepted on loopback only', () => {
    const policy = mediaUrlPolicy(production({ ALLOW_LOCAL_GRAPH_SIMULATOR: 'true' }));
    expect(refusal(policy, 'http://127.0.0.1:4010/media/1')).toBeNull();
    expect(refusal(policy, 'http://[::1]:4010/media/1')).toBeNull();
    expect(refusal(policy, 'http://10.0.0.5/media/1')).toMatch(/not https/);
  });

  it('when not in production, then any http(s) URL is accepted (the local Graph simulator)', () => {
    const policy = mediaUrlPolicy(parseConfig({}));
    expect(refusal(policy, 'http://127.0.0.1:4010/media/1')).toBeNull();
    expect(refusal(policy, 'ftp://127.0.0.1/x')).toMatch(/not an http\(s\) URL/);
  });

  it('when a wildcard entry is given, then it matches subdomains but not look-alike domains', () => {
    expect(hostAllowed('a.b.fbsbx.com', ['*.fbsbx.com'])).toBe(true);
    expect(hostAllowed('fbsbx.com', ['*.fbsbx.com'])).toBe(false);
    expect(hostAllowed('evilfbsbx.com', ['*.fbsbx.com'])).toBe(false);
    expect(hostAllowed('LOOKASIDE.FBSBX.COM.', ['lookaside.fbsbx.com'])).toBe(true);
  });
});

describe('Graph media client with the production policy', () => {
  let graph: Server;
  let other: Server;
  let graphUrl = '';
  let otherUrl = '';
  const otherRequests: IncomingHttpHeaders[] = [];
  const listen = async (server: Server) => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const a = server.address();
    return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  };

  beforeAll(async () => {
    // The lookup answers with a download URL on a host that is not Meta's.
    other = createServer((req, res) => {
      otherRequests.push(req.headers);
      res.end('stolen');
    });
    otherUrl = await listen(other);
    graph = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({ id: '1234567890123456', url: `${otherUrl}/file.jpg`, mime_type: 'image/jpeg', file_size: 6 }),
      );
    });
    graphUrl = await listen(graph);
  });
  afterAll(async () => {
    await new Promise((r) => graph.close(r));
    await new Promise((r) => other.close(r));
  });

  it('when the lookup names a download URL off the allowed hosts, then the download is refused and the token never leaves', async () => {
    const client = new GraphMediaClient({
      baseUrl: graphUrl,
      version: 'v25.0',
      accessToken: TOKEN,
      timeoutMs: 2_000,
      urlPolicy: mediaUrlPolicy(production()),
    });
    const info = await client.lookup('1234567890123456');
    await expect(client.open(info.url, 1024)).rejects.toMatchObject({
      code: 'MEDIA_REJECTED',
      message: expect.stringMatching(/^download URL refused: /),
    });
    expect(otherRequests).toEqual([]);
  });

  it('when not in production, then the same download goes through (the simulator case)', async () => {
    const client = new GraphMediaClient({
      baseUrl: graphUrl,
      version: 'v25.0',
      accessToken: TOKEN,
      timeoutMs: 2_000,
      urlPolicy: mediaUrlPolicy(parseConfig({})),
    });
    const info = await client.lookup('1234567890123456');
    const chunks: Buffer[] = [];
    for await (const chunk of await client.open(info.url, 1024)) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('stolen');
    expect(otherRequests).toHaveLength(1);
  });
});
