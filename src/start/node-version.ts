import type { Logger } from 'pino';

/**
 * The Node.js line the router is built and supported on: 22 LTS (package.json `engines`, `.nvmrc`;
 * a unit test keeps the three in step). Node 20 reached end-of-life in April 2026; the code still
 * runs on it (this project's CI machine has it), but a production process on it is told so.
 */
export const SUPPORTED_NODE_MAJOR = 22;

export function nodeMajor(version: string = process.versions.node): number {
  return Number(version.split('.')[0]);
}

/** One warning at start when the process runs on an older Node than the supported line. */
export function warnIfOldNode(log: Logger, version: string = process.versions.node): void {
  if (nodeMajor(version) >= SUPPORTED_NODE_MAJOR) return;
  log.warn(
    { code: 'NODE_VERSION_UNSUPPORTED', node: `v${version}`, supported: `>=${SUPPORTED_NODE_MAJOR}` },
    `Node.js ${nodeMajor(version)} is end-of-life: run the router on Node.js ${SUPPORTED_NODE_MAJOR} LTS (README "Runtime")`,
  );
}
