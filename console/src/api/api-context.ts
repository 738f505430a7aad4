/**
 * What the API routes share: the registries, the history, the access policy, the audit log.
 *
 * @module
 */
import type { Logger } from '@elasticjob-ts/core';
import type { HistorySource } from '../history/history-source.js';
import type { ChangeFeed } from '../live/change-feed.js';
import type { ConsoleGateway } from '../registry/console-gateway.js';
import type { AccessPolicy, AccessVariables } from '../security/access.js';
import { ProblemError, problem } from './problem.js';

/** One registry namespace the console shows. */
export interface ConsoleNamespace {
  /** Id used in `?registry=`. */
  readonly id: string;
  /** Shown in the page's registry selector. */
  readonly label: string;
  /** `zookeeper`, `etcd`, `memory`, ... (never an address or credential). */
  readonly type: string;
  readonly gateway: ConsoleGateway;
  readonly feed: ChangeFeed;
}

/** Hono environment of the console app. */
export interface ConsoleEnv {
  Variables: AccessVariables;
}

/** Shared state of the API routes. */
export interface ApiContext {
  readonly namespaces: readonly ConsoleNamespace[];
  readonly history: HistorySource | undefined;
  readonly policy: AccessPolicy;
  /** Audit lines go here (`info`; a child logger that adds `audit: true` to every line). */
  readonly auditLog: Logger;
  /** Errors the console handled but wants logged (never secrets). */
  readonly log: Logger;
  /** Send `Secure` cookies (behind HTTPS). */
  readonly secureCookies: boolean;
}

/**
 * The namespace `?registry=` names, or the first one.
 * @throws {ProblemError} 404 naming `query.registry` when no registry has that id.
 */
export function namespaceOf(context: ApiContext, id: string | undefined): ConsoleNamespace {
  const found = id === undefined ? context.namespaces[0] : context.namespaces.find((each) => each.id === id);
  if (found === undefined) {
    const known = context.namespaces.map((each) => each.id).join(', ');
    throw new ProblemError(
      problem(404, 'registry-not-found', 'Registry not found', `No registry '${id}'; known: ${known}`, {
        field: 'query.registry',
        errors: [{ field: 'query.registry', message: `unknown registry '${id}'; known: ${known}` }],
      }),
    );
  }
  return found;
}
