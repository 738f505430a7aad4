/**
 * Helpers shared by the case files.
 *
 * @module
 */
import type { RegistryCapabilities } from '@elasticjob-ts/core/adapter';
import type { ConformanceContext } from '../harness.js';
import type { RegistryConformanceControls } from '../options.js';

/** Names of the fault-injection controls. */
export type ControlName = keyof RegistryConformanceControls;

/** Boolean capabilities (those a test can require). */
export type BooleanCapability = {
  [K in keyof RegistryCapabilities]-?: RegistryCapabilities[K] extends boolean ? K : never;
}[keyof RegistryCapabilities];

/** Base test timeout in ms, before scaling. */
export const BASE_TEST_TIMEOUT_MS = 20_000;

/** Title suffix and skip flag for a test needing controls. */
export function needsControls(
  ctx: ConformanceContext,
  ...names: ControlName[]
): { readonly skip: boolean; readonly tag: string } {
  return {
    skip: names.some((name) => typeof ctx.controls[name] !== 'function'),
    tag: ` [control: ${names.join(', ')}]`,
  };
}

/** Title suffix and skip flag for a test needing a capability. */
export function needsCapability(
  ctx: ConformanceContext,
  name: BooleanCapability,
): { readonly skip: boolean; readonly tag: string } {
  return { skip: !ctx.capabilities[name], tag: ` [capability: ${name}]` };
}

/** Calls a control that the test's skip condition guarantees to exist. */
export function control<K extends ControlName>(
  ctx: ConformanceContext,
  name: K,
): NonNullable<RegistryConformanceControls[K]> {
  const fn = ctx.controls[name];
  if (typeof fn !== 'function') throw new Error(`control '${name}' is not available`);
  return fn.bind(ctx.controls) as NonNullable<RegistryConformanceControls[K]>;
}

/** Resolves after the event loop had a turn (lets in-flight callbacks run). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
