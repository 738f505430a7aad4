/**
 * `@elasticjob-ts/registry-conformance`: the one conformance suite every
 * `CoordinatorRegistryCenter` adapter runs ({@link registryConformanceSuite}), plus the recorders
 * and wait helpers adapter authors need for their own tests. The test-server harness is in the
 * `@elasticjob-ts/registry-conformance/servers` entry point.
 *
 * @module
 */
export {
  type ConformanceClientOptions,
  ConformanceContext,
  captureError,
  expectRegistryError,
  isRegistryErrorLike,
  readSubtree,
  sortedEntries,
} from './harness.js';
export { median } from './measure.js';
export {
  CONFORMANCE_DIGEST,
  CONFORMANCE_SESSION_TIMEOUT_MS,
  CONFORMANCE_WRONG_DIGEST,
  type RegistryClientOptions,
  type RegistryConformanceControls,
  type RegistryConformanceSuiteOptions,
} from './options.js';
export {
  ConnectionStateRecorder,
  type ConnectionStateRecorderOptions,
  DEFAULT_RECORDER_TIMEOUT_MS,
  EventRecorder,
  type EventRecorderOptions,
} from './recorders.js';
export { type LiveResource, ResourceTracker, TRACKED_RESOURCE_TYPES } from './resources.js';
export { registryConformanceSuite } from './suite.js';
export {
  ConditionTimeoutError,
  Deferred,
  type WaitForConditionOptions,
  waitForCondition,
  withTimeout,
} from './wait.js';
