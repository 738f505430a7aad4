/**
 * Counting the process resources that keep Node.js alive, to prove that `close()` leaves none
 * behind.
 *
 * @module
 */

/**
 * Resource kinds (as named by `process.getActiveResourcesInfo()`) that keep the event loop alive
 * and that a registry client could leak: referenced timers, TCP/pipe/UDP sockets and pending
 * connects. Unreferenced timers are not reported by Node and therefore not counted.
 */
export const TRACKED_RESOURCE_TYPES: readonly string[] = [
  'Timeout',
  'TCPWrap',
  'TCPSocketWrap',
  'TCPServerWrap',
  'ConnectWrap',
  'PipeWrap',
  'PipeConnectWrap',
  'UDPWrap',
  'TLSWrap',
  'Http2Session',
  'GetAddrInfoReqWrap',
];

/**
 * Counts of the {@link TRACKED_RESOURCE_TYPES} currently active in this process.
 *
 * @returns a map from resource kind to count (kinds with 0 are present too).
 */
export function countActiveResources(): Map<string, number> {
  const counts = new Map<string, number>(TRACKED_RESOURCE_TYPES.map((type) => [type, 0]));
  for (const type of process.getActiveResourcesInfo()) {
    const current = counts.get(type);
    if (current !== undefined) counts.set(type, current + 1);
  }
  return counts;
}

/**
 * The kinds whose count in `after` exceeds `before`, rendered as `Kind: before → after`.
 *
 * @param before - counts taken before the client was created.
 * @param after - counts taken after it was closed.
 * @returns one entry per leaked kind; empty when nothing leaked.
 */
export function leakedResources(before: Map<string, number>, after: Map<string, number>): string[] {
  const leaks: string[] = [];
  for (const [type, count] of after) {
    const was = before.get(type) ?? 0;
    if (count > was) leaks.push(`${type}: ${was} → ${count}`);
  }
  return leaks;
}
