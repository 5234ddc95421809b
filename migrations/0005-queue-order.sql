-- Queue mode order: the webhook gives each message a per-conversation sequence number in Redis at
-- ack time (stable for redeliveries). Workers journal jobs in parallel, so a later message can reach
-- the journal first; the processor waits (bounded) for the gap below it to fill before processing.
ALTER TABLE router_eventos ADD COLUMN IF NOT EXISTS seq bigint;

CREATE TABLE IF NOT EXISTS router_conv_seq (
  conv_key    text PRIMARY KEY,
  ultimo_seq  bigint NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);
