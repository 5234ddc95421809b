import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetDatabase } from '../helpers/reset-db.js';
import { startRouter, type RunningRouter } from '../helpers/start-router.js';
import { testConfig } from '../helpers/test-config.js';

const OPS = fileURLToPath(new URL('../../ops/', import.meta.url));
/** Series Prometheus makes itself, not the router. */
const PROMETHEUS_OWN = new Set(['up']);
const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'offset',
  'bool',
]);
const PROMQL_WORDS_WITH_LIST = ['by', 'without', 'on', 'ignoring', 'group_left', 'group_right'];

/** Every `expr` string anywhere in the dashboard JSON. */
function dashboardExprs(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(dashboardExprs);
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) =>
    key === 'expr' && typeof value === 'string' ? [value] : dashboardExprs(value),
  );
}

/** The rules file keeps each expr on one line (its header says so). */
function ruleExprs(yaml: string): string[] {
  return [...yaml.matchAll(/^\s+expr:\s*(.+)$/gm)].map((m) => m[1]!.trim());
}

/**
 * The metric names a PromQL expression reads: what is left once strings, label matchers, ranges,
 * grouping lists, numbers, function calls and operators are taken out.
 */
function metricNames(expr: string): string[] {
  let rest = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  for (const word of PROMQL_WORDS_WITH_LIST) rest = rest.replace(new RegExp(`\\b${word}\\s*\\([^)]*\\)`, 'g'), ' ');
  return [...rest.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1]!)
    .filter((name) => !PROMQL_WORDS.has(name) && !/^\d/.test(name));
}

/** Names the router's /metrics exposes, histogram and summary series included. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    const [, name, type] = m;
    names.add(name!);
    if (type === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name! + s);
    if (type === 'summary') for (const s of ['_sum', '_count']) names.add(name! + s);
  }
  return names;
}

describe('ops/: the Grafana dashboard and the Prometheus rules against the router', () => {
  let router: RunningRouter;
  let exposed: Set<string>;

  beforeAll(async () => {
    await resetDatabase();
    router = await startRouter(testConfig());
    exposed = exposedNames(await (await fetch(`${router.url}/metrics`)).text());
  });
  afterAll(() => router?.stop());

  it('when the metric names of an expression are read, then functions, labels and grouping are left out', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le) (rate(psi_router_webhook_ack_seconds_bucket{instance=~"a|b"}[5m]))) > 0.25',
      ),
    ).toEqual(['psi_router_webhook_ack_seconds_bucket']);
    expect(metricNames('max(a_x) == 1 and on() max(b_y{q="c"}) == 0 or up offset 5m')).toEqual(['a_x', 'b_y', 'up']);
  });

  it('when every dashboard panel and alert rule is read, then each metric it names is in /metrics', () => {
    const dashboard = JSON.parse(readFileSync(path.join(OPS, 'grafana-dashboard.json'), 'utf8')) as unknown;
    const rules = readFileSync(path.join(OPS, 'prometheus-rules.yml'), 'utf8');
    const used = [
      ...dashboardExprs(dashboard).map((e) => ['grafana-dashboard.json', e] as const),
      ...ruleExprs(rules).map((e) => ['prometheus-rules.yml', e] as const),
    ];
    // The files are not empty, and cover what the issue asks for.
    expect(dashboardExprs(dashboard).length).toBeGreaterThan(30);
    expect(ruleExprs(rules)).toHaveLength(7);
    const unknown = used.flatMap(([file, expr]) =>
      metricNames(expr)
        .filter((name) => !exposed.has(name) && !PROMETHEUS_OWN.has(name))
        .map((name) => `${file}: ${name} (in ${expr})`),
    );
    expect(unknown).toEqual([]);
    const names = new Set(used.flatMap(([, expr]) => metricNames(expr)));
    for (const needed of [
      'psi_router_webhook_ack_seconds_bucket',
      'psi_router_processing_seconds_bucket',
      'psi_router_events_total',
      'psi_router_outbox_depth',
      'psi_router_dead_letters',
      'psi_router_graph_circuit_state',
      'psi_router_queue_jobs',
      'psi_router_queue_mode_recommended',
      'psi_router_ready',
      'psi_router_process_resident_memory_bytes',
    ])
      expect(names).toContain(needed);
  });
});

/**
 * `promtool` comes with Debian's prometheus package; .ci/run installs it and runs with CI=true, where
 * this never skips. Elsewhere it is skipped with its reason, as the nginx suite is.
 */
const hasPromtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).error === undefined;
const promtoolSkip =
  !hasPromtool && process.env['CI'] !== 'true'
    ? 'promtool not found on PATH (CI=true runs it; .ci/run installs Debian prometheus)'
    : null;
if (promtoolSkip) console.warn(`promtool checks skipped: ${promtoolSkip}`);

describe.skipIf(promtoolSkip !== null)(
  `ops/prometheus-rules.yml under promtool${promtoolSkip ? ` — skipped: ${promtoolSkip}` : ''}`,
  () => {
    const promtool = (...args: string[]) => {
      if (!hasPromtool) throw new Error('CI=true, but promtool is not installed: .ci/run installs it (prometheus)');
      return spawnSync('promtool', args, { cwd: OPS, encoding: 'utf8', timeout: 60_000 });
    };

    it('when `promtool check rules` reads the rules, then they are valid', () => {
      const run = promtool('check', 'rules', 'prometheus-rules.yml');
      expect(run.stdout + run.stderr).toContain('SUCCESS: 7 rules found');
      expect(run.status).toBe(0);
    });

    it('when `promtool test rules` replays series, then each alert fires when it should and not before', () => {
      const run = promtool('test', 'rules', 'prometheus-rules.test.yml');
      expect(run.stdout + run.stderr).toContain('SUCCESS');
      expect(run.status).toBe(0);
    });
  },
);
