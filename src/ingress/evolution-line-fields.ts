import { z } from 'zod';
import { evolutionSenderId } from '../evolution/line-ids.js';
import type { LineUpsert } from '../store/line-repository.js';

/**
 * The PUT /admin/lines fields only Evolution lines use. Secrets are write-only: a PUT without them
 * keeps the stored ones, and no answer ever shows them.
 */
export const evolutionLineFields = {
  instancia: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be the Evolution instance name (letters, digits, _ . -)')
    .optional(),
  webhookSecret: z.string().min(16, 'must be at least 16 characters').max(512).optional(),
  apikey: z.string().min(1).max(512).optional(),
  sendRatePerSecond: z.number().positive().max(50).optional(),
};

type EvolutionBody = {
  tipo: 'cloud' | 'evolution';
  instancia?: string | undefined;
  webhookSecret?: string | undefined;
  apikey?: string | undefined;
  sendRatePerSecond?: number | undefined;
  phoneNumberId?: string | null | undefined;
};

export function evolutionLineUpsert(
  codigo: string,
  body: EvolutionBody,
): Pick<LineUpsert, 'phone_number_id' | 'instancia' | 'webhook_secreto' | 'evolution_apikey' | 'envio_por_segundo'> {
  if (body.tipo !== 'evolution') {
    return {
      phone_number_id: body.phoneNumberId ?? null,
      instancia: null,
      webhook_secreto: null,
      evolution_apikey: null,
      envio_por_segundo: null,
    };
  }
  return {
    phone_number_id: evolutionSenderId(codigo),
    instancia: body.instancia ?? null,
    webhook_secreto: body.webhookSecret ?? null,
    evolution_apikey: body.apikey ?? null,
    envio_por_segundo: body.sendRatePerSecond ?? null,
  };
}
