import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * `tsx bench/top-frames.ts <dir-or-file.cpuprofile> [n]`: the functions with the most self time in a
 * V8 CPU profile (from --cpu-prof), grouped by function and file, as a table for the notes.
 */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const target = process.argv[2] ?? '/tmp/psi-prof';
const n = Number(process.argv[3] ?? 25);
const file = target.endsWith('.cpuprofile')
  ? target
  : path.join(
      target,
      readdirSync(target)
        .filter((f) => f.endsWith('.cpuprofile'))
        .sort()
        .at(-1)!,
    );
const prof = JSON.parse(readFileSync(file, 'utf8')) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};
const byId = new Map(prof.nodes.map((x) => [x.id, x]));
const self = new Map<string, number>();
let total = 0;
prof.samples.forEach((id, i) => {
  const node = byId.get(id)!;
  const dt = prof.timeDeltas[i] ?? 0;
  total += dt;
  const f = node.callFrame;
  const where = f.url ? `${f.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}` : '';
  const key = `${f.functionName || '(anonymous)'} ${where}`;
  self.set(key, (self.get(key) ?? 0) + dt);
});
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, n);
console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled`);
for (const [k, us] of rows) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
