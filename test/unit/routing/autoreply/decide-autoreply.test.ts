import { describe, expect, it } from 'vitest';
import {
  autoreplyBand,
  decideAutoreply,
  fillTemplate,
  type AutoreplyConfig,
  type AutoreplyInput,
} from '../../../../src/routing/autoreply/decide-autoreply.js';

const TZ = 'America/Argentina/Buenos_Aires'; // UTC-3 all year
/** A time in Buenos Aires on 2026-12-01, as ms. */
const ba = (hhmm: string) => Date.parse(`2026-12-01T${hhmm}:00-03:00`);
const CONFIG: AutoreplyConfig = {
  line: 'wsp4',
  active: true,
  cooldownHours: 2,
  agentGuardMinutes: 30,
  bands: ['Estamos cerrados, buen {dia_tarde}', 'Abrimos a las 9', '', 'Atención pausada'],
  cut: false,
};
const input = (o: Partial<AutoreplyInput> = {}): AutoreplyInput => ({
  config: CONFIG,
  messageType: 'text',
  fromAd: false,
  at: ba('23:30'),
  messageAt: ba('23:30'),
  timeZone: TZ,
  lastSentAt: null,
  lastAgentAt: null,
  ...o,
});

describe('autoreply band', () => {
  it('when the clock crosses 22:00, 07:00 and 09:00 in Buenos Aires, then the band changes exactly there', () => {
    expect(autoreplyBand(ba('21:59'), TZ, false)).toBe(3);
    expect(autoreplyBand(ba('22:00'), TZ, false)).toBe(1);
    expect(autoreplyBand(ba('06:59'), TZ, false)).toBe(1);
    expect(autoreplyBand(ba('07:00'), TZ, false)).toBe(2);
    expect(autoreplyBand(ba('08:59'), TZ, false)).toBe(2);
    expect(autoreplyBand(ba('09:00'), TZ, false)).toBe(3);
  });
  it('when the manual cut is on, then band 4 answers at any hour', () => {
    for (const t of ['03:00', '08:00', '15:00']) expect(autoreplyBand(ba(t), TZ, true)).toBe(4);
  });
  it('when read in another time zone, then the same instant is another band', () => {
    expect(autoreplyBand(ba('23:30'), 'Asia/Tokyo', false)).toBe(3); // 11:30 in Tokyo
  });
});

describe('decideAutoreply', () => {
  it('when every condition holds at night, then band 1 is sent with {dia_tarde} filled for the night', () => {
    expect(decideAutoreply(input())).toEqual({ send: true, band: 1, text: 'Estamos cerrados, buen noche' });
    expect(fillTemplate('{dia_tarde}', 9)).toBe('día');
    expect(fillTemplate('{dia_tarde}', 15)).toBe('tarde');
    expect(fillTemplate('{dia_tarde}', 23)).toBe('noche');
  });
  it('when the config is missing or off, then nothing, with the reason', () => {
    expect(decideAutoreply(input({ config: null }))).toEqual({ send: false, reason: 'sin_configuracion' });
    expect(decideAutoreply(input({ config: { ...CONFIG, active: false } }))).toEqual({
      send: false,
      reason: 'desactivadas',
    });
  });
  it('when the last autoreply is within the cooldown, then nothing; just past it, then one', () => {
    expect(decideAutoreply(input({ lastSentAt: ba('21:31') }))).toEqual({ send: false, reason: 'cooldown' });
    expect(decideAutoreply(input({ lastSentAt: ba('21:30') })).send).toBe(true);
  });
  it('when an agent wrote within the guard (by the message time), then nothing', () => {
    expect(decideAutoreply(input({ lastAgentAt: ba('23:01') }))).toEqual({ send: false, reason: 'agente_respondio' });
    expect(decideAutoreply(input({ lastAgentAt: ba('23:00') })).send).toBe(true);
  });
  it('when the message is a reaction, a sticker, a tap or an ad click, then it never gets one', () => {
    for (const messageType of ['reaction', 'sticker', 'interactive', 'button', 'location'])
      expect(decideAutoreply(input({ messageType }))).toEqual({ send: false, reason: 'no_aplica' });
    expect(decideAutoreply(input({ fromAd: true }))).toEqual({ send: false, reason: 'no_aplica' });
    expect(decideAutoreply(input({ messageType: 'image' })).send).toBe(true);
  });
  it('when the band has no text, then nothing is sent', () => {
    expect(decideAutoreply(input({ at: ba('15:00') }))).toEqual({ send: false, reason: 'sin_mensaje' });
  });
});
