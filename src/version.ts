import { readFileSync } from 'node:fs';

/** The router's version (package.json), recorded on the rows it writes (derivaciones.sistema_version). */
export const ROUTER_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
