import { describe, expect, it } from 'vitest';
import { Pm2Channel } from '../../../src/observability/pm2-channel.js';
import { RateWindow } from '../../../src/observability/rate-window.js';

describe('PM2 channel', () => {
  it('when an action is registered and PM2 sends its name (plain or with opts), then it runs and its result is the reply', async () => {
    const sent: unknown[] = [];
    const channel = new Pm2Channel((m) => sent.push(m));
    channel.action('echo', async (opts) => ({ got: opts ?? null }));
    expect(sent).toEqual([{ type: 'axm:action', data: { action_name: 'echo', opts: null, arity: 1 } }]);
    await channel.received('echo');
    await channel.received({ msg: 'echo', opts: '12,13' });
    await channel.received('other');
    await channel.received({ type: 'not an action' });
    expect(sent.slice(1)).toEqual([
      { type: 'axm:reply', data: { action_name: 'echo', return: { got: null } } },
      { type: 'axm:reply', data: { action_name: 'echo', return: { got: '12,13' } } },
    ]);
  });

  it('when an action throws, then the reply carries its error code instead of crashing the process', async () => {
    const sent: unknown[] = [];
    const channel = new Pm2Channel((m) => sent.push(m));
    channel.action('boom', async () => {
      throw Object.assign(new Error('no'), { code: 'VALIDATION_FAILED' });
    });
    await channel.received('boom');
    expect(sent[1]).toEqual({
      type: 'axm:reply',
      data: { action_name: 'boom', return: { error: { code: 'VALIDATION_FAILED', message: 'no' } } },
    });
  });

  it('when PM2 did not start the process, then nothing is sent', () => {
    const channel = new Pm2Channel(null);
    channel.report({ x: { value: 1 } });
    expect(channel.active).toBe(false);
  });
});

describe('rate window', () => {
  it('when counts age past a minute, then they leave the rate', () => {
    let now = 1_000_000;
    const rate = new RateWindow(() => now);
    rate.add(3);
    now += 30_000;
    rate.add(2);
    expect(rate.perMinute()).toBe(5);
    now += 30_500;
    expect(rate.perMinute()).toBe(2);
    now += 10 * 60_000;
    expect(rate.perMinute()).toBe(0);
  });
});
