/**
 * Delivery of a shutdown to job instances, for mixed clusters: ElasticJob-TS instances act on the
 * durable command node `shutdown/{instanceId}`; Java ElasticJob instances ignore it and only react
 * to the deletion of their `instances/{instanceId}` node (ElasticJob's own protocol). The command is
 * written first; an instance that does not act on it within a bound gets ElasticJob's protocol.
 *
 * @module
 * @internal
 */
import type {
  CoordinatorRegistryCenter,
  RegistryEvent,
  RegistryUnwatch,
} from '../registry/registry-center.js';
import { LifecycleRegistry, shutdownCommandPath } from './lifecycle-registry.js';

/** How a shutdown reached an instance (see {@link JobOperateAPI.shutdown}). */
export type ShutdownDelivery = 'SHUTDOWN_COMMAND' | 'INSTANCE_NODE_DELETED';

/** Options of {@link JobOperateAPI.shutdown} and {@link JobOperateAPI.remove}. */
export interface JobShutdownOptions {
  /**
   * How long, in ms, each targeted instance has to act on the `shutdown/{instanceId}` command —
   * its instance node disappears, or it deletes the command (its acknowledgement) — before the call
   * falls back to ElasticJob's protocol and deletes the instance node itself. An integer from 0 to
   * 2 147 483 647. @defaultValue 10 000
   */
  readonly commandTimeoutMs?: number;
  /**
   * `false`: write the commands and return at once, without waiting or falling back (an
   * ElasticJob-TS-only cluster; Java instances are then left running). @defaultValue true
   */
  readonly fallback?: boolean;
}

/** Default of {@link JobShutdownOptions.commandTimeoutMs}. */
export const DEFAULT_SHUTDOWN_COMMAND_TIMEOUT_MS = 10_000;

/** One instance to shut down. @internal */
export interface ShutdownTarget {
  readonly jobName: string;
  readonly instanceId: string;
  readonly serverIp: string;
}

/**
 * Writes the command to every target, waits for them to act (bounded), deletes the instance node of
 * those that did not. Targets are returned in the given order with how the shutdown reached them.
 * @internal
 */
export async function deliverShutdown(
  registry: CoordinatorRegistryCenter,
  targets: readonly ShutdownTarget[],
  options: JobShutdownOptions,
): Promise<(ShutdownTarget & { readonly delivery: ShutdownDelivery })[]> {
  const timeoutMs = options.commandTimeoutMs ?? DEFAULT_SHUTDOWN_COMMAND_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > 2_147_483_647) {
    throw new TypeError(
      `commandTimeoutMs must be an integer of ms from 0 to 2147483647, got ${String(timeoutMs)}`,
    );
  }
  const fallback = options.fallback ?? true;
  const reader = new LifecycleRegistry(registry);
  const instancePath = (target: ShutdownTarget) => reader.paths(target.jobName).instance(target.instanceId);
  const commandPath = (target: ShutdownTarget) => shutdownCommandPath(target.jobName, target.instanceId);
  const pending = new Map<string, ShutdownTarget>();
  for (const target of targets) {
    pending.set(instancePath(target), target);
    pending.set(commandPath(target), target);
  }
  const acted = new Set<ShutdownTarget>();
  let wake = (): void => {};
  const onEvent = (event: RegistryEvent): void => {
    const target = event.type === 'DELETED' ? pending.get(event.key) : undefined;
    if (target === undefined) return;
    acted.add(target);
    if (acted.size === targets.length) wake();
  };
  const unwatches: RegistryUnwatch[] = [];
  try {
    // Watch before writing, so that an instance acting at once is never missed.
    if (fallback && timeoutMs > 0) {
      for (const jobName of new Set(targets.map((target) => target.jobName))) {
        unwatches.push(await registry.watch(`/${jobName}`, onEvent));
      }
    }
    for (const target of targets) await registry.persist(commandPath(target), '');
    if (!fallback) return targets.map((target) => ({ ...target, delivery: 'SHUTDOWN_COMMAND' }));
    await waitUntil(
      () => acted.size === targets.length,
      timeoutMs,
      (resolve) => {
        wake = resolve;
      },
    );
    for (const target of targets) {
      if (acted.has(target)) continue;
      // Acted between the last event and now?
      const [instanceLeft, commandLeft] = await Promise.all([
        registry.isExisted(instancePath(target)),
        registry.isExisted(commandPath(target)),
      ]);
      if (!instanceLeft || !commandLeft) acted.add(target);
    }
  } finally {
    for (const unwatch of unwatches) await unwatch();
  }
  const result: (ShutdownTarget & { readonly delivery: ShutdownDelivery })[] = [];
  for (const target of targets) {
    if (acted.has(target)) {
      result.push({ ...target, delivery: 'SHUTDOWN_COMMAND' });
      continue;
    }
    // ElasticJob's protocol: the instance shuts the job down when its own node is deleted. The
    // command stays, so an ElasticJob-TS instance that was only slow treats the deletion as the
    // command (not as a lost session); the next shutdown call or its restart clears it.
    await registry.remove(instancePath(target));
    result.push({ ...target, delivery: 'INSTANCE_NODE_DELETED' });
  }
  return result;
}

/** Resolves when `done()` holds (re-checked on every wake-up) or after `timeoutMs`. */
function waitUntil(
  done: () => boolean,
  timeoutMs: number,
  setWake: (wake: () => void) => void,
): Promise<void> {
  if (done() || timeoutMs === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    setWake(() => {
      if (!done()) return;
      clearTimeout(timer);
      resolve();
    });
  });
}
