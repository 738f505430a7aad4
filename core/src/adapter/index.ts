/**
 * `@elasticjob-ts/core/adapter`: what a registry adapter needs from core, and nothing more.
 *
 * The registry contract ({@link CoordinatorRegistryCenter}, its events, transactions and errors,
 * path helpers, the path index for watch dispatch, the transaction meter and coalescer), the
 * {@link Clock} an adapter times its sessions with, {@link runItemsConcurrently} for bounded
 * fan-out, and the {@link Logger} interface with {@link createDefaultLogger} (pino) for an adapter
 * given no logger. Every name here is also exported by the main entry `@elasticjob-ts/core`, from the same
 * modules, so `instanceof RegistryError` holds whichever entry a caller imported.
 *
 * Why a separate entry: the main entry loads the whole kernel and its dependencies (`zod`, `yaml`,
 * `croner`; about 240 modules). This one loads 11 of core's own modules and `pino`, so a process that only talks to the registry, such as every `elasticjob` CLI command but `run`,
 * starts without the kernel.
 *
 * @module
 */

export { runItemsConcurrently } from '../executor/run-items-concurrently.js';
export { createDefaultLogger, type Logger } from '../logging/logger.js';
export * from '../registry/index.js';
export {
  type Clock,
  type ClockTimer,
  type ClockTimerOptions,
  ManualClock,
  systemClock,
} from '../time/clock.js';
