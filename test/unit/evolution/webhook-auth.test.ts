import { describe, expect, it } from 'vitest';
import { signEvolutionJwt, verifyEvolutionWebhook } from '../../../src/evolution/webhook-auth.js';

const SECRET = 'line-secret-0123456789';
const NOW = 1_780_000_000;
const check = (h: { authorization?: string; apikey?: string }, secret: string | null = SECRET) => {
  try {
    verifyEvolutionWebhook({ authorization: h.authorization, apikey: h.apikey }, secret, NOW);
    return 'ok';
  } catch (err) {
    return (err as { code: string }).code;
  }
};

describe('Evolution webhook authentication', () => {
  it('when the line secret comes as Bearer, apikey header or a fresh HS256 JWT, then it passes', () => {
    expect(check({ authorization: `Bearer ${SECRET}` })).toBe('ok');
    expect(check({ apikey: SECRET })).toBe('ok');
    expect(check({ authorization: `Bearer ${signEvolutionJwt(SECRET, NOW)}` })).toBe('ok');
  });

  it('when it is missing, wrong, expired, long-lived, unsigned or the line has none, then it is refused', () => {
    expect(check({})).toBe('SIGNATURE_MISSING');
    expect(check({ apikey: 'nope' })).toBe('SIGNATURE_INVALID');
    expect(check({ authorization: `Bearer ${SECRET}x` })).toBe('SIGNATURE_INVALID');
    expect(check({ authorization: `Bearer ${signEvolutionJwt('other-secret', NOW)}` })).toBe('SIGNATURE_INVALID');
    expect(check({ authorization: `Bearer ${signEvolutionJwt(SECRET, NOW - 3600)}` })).toBe('SIGNATURE_INVALID');
    expect(check({ authorization: `Bearer ${signEvolutionJwt(SECRET, NOW, 30 * 24 * 3600)}` })).toBe(
      'SIGNATURE_INVALID',
    );
    const [, payload] = signEvolutionJwt(SECRET, NOW).split('.');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    expect(check({ authorization: `Bearer ${none}` })).toBe('SIGNATURE_INVALID');
    expect(check({ apikey: SECRET }, null)).toBe('SIGNATURE_INVALID');
  });
});
