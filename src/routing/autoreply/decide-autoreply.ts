/**
 * Out-of-hours autoreplies (FLOWS.md §B, CRM-CONTRACT §9), decided as a pure function over the
 * line's `config_autorespuestas` row, the message and two facts read with the conversation: when
 * this contact last got an autoreply on this line, and when an agent last wrote in the conversation.
 *
 * The band rule — the one the CRM's settings page shows (AJ:490-504), in the business's time zone:
 *   - autoreplies off (`activo` false)            → none;
 *   - the manual cut is on (`corte_activo`)       → band 4 ("we are closed now");
 *   - otherwise by the local hour: 22:00–06:59    → band 1, 07:00–08:59 → band 2, else band 3.
 * So band 4 is reachable (§D19), and autoreplies follow the clock without anyone pressing "Cortar"
 * (§D20); a band whose text is empty sends nothing (e.g. band 3 during office hours).
 */

export interface AutoreplyConfig {
  line: string;
  active: boolean;
  cooldownHours: number;
  agentGuardMinutes: number;
  /** mensaje_franja_1..4. */
  bands: [string | null, string | null, string | null, string | null];
  cut: boolean;
}

export type AutoreplyBand = 1 | 2 | 3 | 4;

export type AutoreplyDecision =
  | { send: true; band: AutoreplyBand; text: string }
  | {
      send: false;
      reason: 'no_aplica' | 'sin_configuracion' | 'desactivadas' | 'cooldown' | 'agente_respondio' | 'sin_mensaje';
    };

/** Messages a person writes; reactions, stickers, taps and ad clicks never get an autoreply (§D23). */
const ANSWERABLE = new Set(['text', 'image', 'audio', 'video', 'document']);

export interface AutoreplyInput {
  config: AutoreplyConfig | null;
  messageType: string;
  /** The message is a click-to-WhatsApp ad entry (the funnel answers it). */
  fromAd: boolean;
  /** The flows' time of this message (ms): bands and cooldown (log rows carry this time). */
  at: number;
  /** The message's own WhatsApp time (ms): compared with the agent's rows, which carry real times. */
  messageAt: number;
  timeZone: string;
  /** Last autoreply to this contact on this line (ms), if any. */
  lastSentAt: number | null;
  /** Newest `agente` message of the conversation (ms), if any. */
  lastAgentAt: number | null;
}

export function decideAutoreply(input: AutoreplyInput): AutoreplyDecision {
  const { config } = input;
  if (!ANSWERABLE.has(input.messageType) || input.fromAd) return { send: false, reason: 'no_aplica' };
  if (!config) return { send: false, reason: 'sin_configuracion' };
  if (!config.active) return { send: false, reason: 'desactivadas' };
  if (input.lastSentAt !== null && input.at - input.lastSentAt < config.cooldownHours * 3_600_000)
    return { send: false, reason: 'cooldown' };
  if (input.lastAgentAt !== null && input.messageAt - input.lastAgentAt < config.agentGuardMinutes * 60_000)
    return { send: false, reason: 'agente_respondio' };
  const band = autoreplyBand(input.at, input.timeZone, config.cut);
  const template = config.bands[band - 1]?.trim() ?? '';
  if (template === '') return { send: false, reason: 'sin_mensaje' };
  return { send: true, band, text: fillTemplate(template, localHour(input.at, input.timeZone)) };
}

export function autoreplyBand(at: number, timeZone: string, cut: boolean): AutoreplyBand {
  if (cut) return 4;
  const hour = localHour(at, timeZone);
  if (hour >= 22 || hour < 7) return 1;
  if (hour < 9) return 2;
  return 3;
}

/** `{dia_tarde}`: "día" in the morning, "tarde" in the afternoon, "noche" at night (§D22). */
export function fillTemplate(template: string, hour: number): string {
  const part = hour >= 5 && hour < 13 ? 'día' : hour >= 13 && hour < 20 ? 'tarde' : 'noche';
  return template.replaceAll('{dia_tarde}', part);
}

export function localHour(at: number, timeZone: string): number {
  const h = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', hourCycle: 'h23' }).format(new Date(at));
  return Number(h) % 24;
}
