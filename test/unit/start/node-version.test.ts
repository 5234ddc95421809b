import { readFileSync } from 'node:fs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { SUPPORTED_NODE_MAJOR, warnIfOldNode } from '../../../src/start/node-version.js';

const root = new URL('../../../', import.meta.url);

describe('supported Node.js line', () => {
  it('when the supported line is read from package.json engines, .nvmrc and the code, then all three say the same major', () => {
    const engines = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string } })
      .engines.node;
    expect(engines).toBe(`>=${SUPPORTED_NODE_MAJOR}.11.0`); // 22.11.0: the first 22 LTS release
    expect(readFileSync(new URL('.nvmrc', root), 'utf8').trim()).toBe(String(SUPPORTED_NODE_MAJOR));
    const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as {
      packages: Record<string, { engines?: { node: string } }>;
    };
    expect(lock.packages['']?.engines?.node).toBe(engines);
  });

  it('when the process runs on Node 20, then one warning names the version and the code; on 22 or later, nothing', () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    warnIfOldNode(log, '20.20.2');
    warnIfOldNode(log, '22.11.0');
    warnIfOldNode(log, '24.1.0');
    expect(lines.map((l) => JSON.parse(l) as { code: string; node: string })).toEqual([
      expect.objectContaining({ code: 'NODE_VERSION_UNSUPPORTED', node: 'v20.20.2' }),
    ]);
  });
});
