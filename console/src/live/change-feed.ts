/**
 * {@link ChangeFeed}: turns the namespace mirror's registry events into console events (which job
 * changed, and how), coalescing a burst of node changes into one event per job.
 *
 * @module
 */
import type { RegistryEvent } from '@elasticjob-ts/core';
import type { ConsoleGateway, JobSummary } from '../registry/console-gateway.js';

/** Which part of a job a registry change touched (the first path segment below the job root). */
export type JobPart = 'config' | 'servers' | 'instances' | 'sharding' | 'leader' | 'other';

/** An event sent to the browser over `GET /api/v1/events`. */
export type ConsoleEvent =
  | {
      /** A job was added, changed or removed. */
      readonly type: 'job';
      readonly jobName: string;
      /** The job's summary after the change; `null` when it no longer exists. */
      readonly summary: JobSummary | null;
      /** The parts that changed, ascending. */
      readonly parts: readonly JobPart[];
    }
  | {
      /** Servers or instances changed (some job's `servers/` or `instances/`). */
      readonly type: 'servers';
    };

/** Receives console events. */
export type ConsoleEventListener = (event: ConsoleEvent) => void;

const KNOWN_PARTS: ReadonlySet<string> = new Set(['config', 'servers', 'instances', 'sharding', 'leader']);

/** The job and part a registry key belongs to; `undefined` for the namespace root. */
export function classifyKey(key: string): { jobName: string; part: JobPart } | undefined {
  const segments = key.split('/').filter((segment) => segment !== '');
  const [jobName, part] = segments;
  if (jobName === undefined) return undefined;
  return { jobName, part: part !== undefined && KNOWN_PARTS.has(part) ? (part as JobPart) : 'other' };
}

/**
 * Subscribes to the mirror through the gateway and publishes {@link ConsoleEvent}s. Changes that
 * arrive in the same turn of the event loop are merged into one event per job, computed from the
 * mirror after the burst (so a resharding that rewrites every item sends one event).
 */
export class ChangeFeed {
  readonly #listeners = new Set<ConsoleEventListener>();
  readonly #pending = new Map<string, Set<JobPart>>();
  #flushScheduled = false;
  #serversChanged = false;
  readonly #stop: () => void;

  /**
   * @param gateway - the namespace's gateway (its mirror is watched; summaries come from it).
   * @param onError - receives errors computing a summary (a broken registry value); never thrown.
   */
  constructor(
    private readonly gateway: ConsoleGateway,
    private readonly onError: (error: unknown) => void,
  ) {
    this.#stop = gateway.mirror.onChange((event) => this.#onRegistryEvent(event));
  }

  /**
   * Registers a listener.
   * @returns a function removing it.
   */
  subscribe(listener: ConsoleEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Number of subscribers (open event streams). */
  get subscriberCount(): number {
    return this.#listeners.size;
  }

  /** Stops listening to the mirror. */
  close(): void {
    this.#stop();
    this.#listeners.clear();
  }

  #onRegistryEvent(event: RegistryEvent): void {
    const target = classifyKey(event.key);
    if (target === undefined) return;
    let parts = this.#pending.get(target.jobName);
    if (parts === undefined) {
      parts = new Set();
      this.#pending.set(target.jobName, parts);
    }
    parts.add(target.part);
    if (target.part === 'servers' || target.part === 'instances') this.#serversChanged = true;
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => void this.#flush());
    }
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    const pending = [...this.#pending];
    this.#pending.clear();
    const serversChanged = this.#serversChanged;
    this.#serversChanged = false;
    for (const [jobName, parts] of pending) {
      try {
        const summary = (await this.gateway.jobSummary(jobName)) ?? null;
        this.#publish({ type: 'job', jobName, summary, parts: [...parts].sort() });
      } catch (error) {
        this.onError(error);
      }
    }
    if (serversChanged) this.#publish({ type: 'servers' });
  }

  #publish(event: ConsoleEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
