/**
 * A tiny path router, so each endpoint family (messages, control API, later media) lives in its own
 * file and registers itself. Patterns are `/`-separated segments; `:name` captures one segment,
 * optionally constrained by a test in `where` (e.g. the Graph version). First match wins.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type ParamTest = (value: string) => boolean;

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Decoded path parameters. */
  params: Readonly<Record<string, string>>;
  path: string;
  query: URLSearchParams;
}

export type RouteHandler = (ctx: RouteContext) => void | Promise<void>;

export interface RouteSpec {
  method: string;
  path: string;
  where?: Readonly<Record<string, ParamTest>>;
  handler: RouteHandler;
}

/** What registrars get besides the table: shared checks so every Graph route behaves alike. */
export interface RouteKit {
  /** Accepts the configured version, or any vN.N when none is configured. */
  version: ParamTest;
  /** True when the Bearer token is right; otherwise it has already answered 401 (Meta's body) and counted it. */
  authorize(ctx: RouteContext): boolean;
  /** Aborted when the simulator closes (timers, outbound posts). */
  signal: AbortSignal;
}

export type RouteRegistrar = (routes: RouteTable, kit: RouteKit) => void;

interface CompiledRoute {
  method: string;
  segments: { literal: string | null; param: string | null; test: ParamTest | undefined }[];
  handler: RouteHandler;
}

export interface RouteMatch {
  handler: RouteHandler;
  params: Record<string, string>;
}

export class RouteTable {
  private readonly routes: CompiledRoute[] = [];

  add(spec: RouteSpec): this {
    const segments = splitPath(spec.path).map((s) => {
      if (!s.startsWith(':')) return { literal: s, param: null, test: undefined };
      const name = s.slice(1);
      return { literal: null, param: name, test: spec.where?.[name] };
    });
    this.routes.push({ method: spec.method.toUpperCase(), segments, handler: spec.handler });
    return this;
  }

  match(method: string, path: string): RouteMatch | null {
    const parts = splitPath(path);
    for (const route of this.routes) {
      if (route.method !== method || route.segments.length !== parts.length) continue;
      const params = matchSegments(route, parts);
      if (params) return { handler: route.handler, params };
    }
    return null;
  }
}

function matchSegments(route: CompiledRoute, parts: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const seg = route.segments[i];
    const part = parts[i];
    if (seg === undefined || part === undefined) return null;
    if (seg.literal !== null) {
      if (seg.literal !== part) return null;
      continue;
    }
    const value = safeDecode(part);
    if (value === null || (seg.test && !seg.test(value))) return null;
    params[seg.param ?? ''] = value;
  }
  return params;
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}
