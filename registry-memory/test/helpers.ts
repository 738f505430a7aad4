import {
  type Logger,
  ManualClock,
  type RegistryConnectionState,
  type RegistryEvent,
} from '@elasticjob-ts/core';
import { afterEach } from 'vitest';
import {
  MemoryRegistryCenter,
  type MemoryRegistryCenterOptions,
  MemoryRegistryServer,
} from '../src/index.js';

/** A fresh server on a ManualClock, and started clients that are closed after each test. */
export function useMemoryRegistry(): {
  readonly clock: ManualClock;
  readonly server: MemoryRegistryServer;
  client(options?: MemoryRegistryCenterOptions): Promise<MemoryRegistryCenter>;
} {
  let clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
  let server = new MemoryRegistryServer({ clock });
  const clients: MemoryRegistryCenter[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) await client.close();
    clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    server = new MemoryRegistryServer({ clock });
  });
  return {
    get clock() {
      return clock;
    },
    get server() {
      return server;
    },
    async client(options = {}) {
      const client = new MemoryRegistryCenter({ server, namespace: 'test', ...options });
      clients.push(client);
      await client.start();
      return client;
    },
  };
}

/** Records the events of a watch. */
export async function record(
  client: MemoryRegistryCenter,
  key: string,
): Promise<{ events: RegistryEvent[]; unwatch: () => Promise<void> }> {
  const events: RegistryEvent[] = [];
  const unwatch = await client.watch(key, (event) => events.push(event));
  return { events, unwatch };
}

/** Records the connection states of a client. */
export function recordStates(client: MemoryRegistryCenter): RegistryConnectionState[] {
  const states: RegistryConnectionState[] = [];
  client.addConnectionStateListener((state) => states.push(state));
  return states;
}

/** `TYPE key=value` strings, compact for assertions. */
export function compact(events: readonly RegistryEvent[]): string[] {
  return events.map((event) => `${event.type} ${event.key}=${event.value}`);
}

/** A logger that records what is passed to `error`. */
export function capturingLogger(): { logger: Logger; errors: unknown[] } {
  const errors: unknown[] = [];
  const logger: Logger = {
    debug: () => {},
    info: () => {},
    warn: () => {},
    error: (context: object | string) => {
      errors.push(context);
    },
    child: () => logger,
  };
  return { logger, errors };
}
