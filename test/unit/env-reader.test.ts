import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

describe('who reads the environment', () => {
  it('when the sources are searched for process.env, then only config.ts (and the simulator, a separate tool) read it', () => {
    const readers = sourceFiles(SRC)
      .filter((file) => readFileSync(file, 'utf8').includes('process.env'))
      .map((file) => path.relative(SRC, file).split(path.sep).join('/'))
      .sort();
    expect(readers).toEqual(['config.ts', 'start/simulator.ts']);
  });
});
