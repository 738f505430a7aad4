/**
 * The values of this client's own writes, handed to the persistent subtree watches that cover them
 * so that they need not read back what this client has just written. For one `multi`: before it
 * is sent, every `create` and `update` in a watched subtree is announced to the covering watches
 * (`SubtreeWatch.expectOwnWrite`); in the `multi`'s answer callback, each is settled with the node
 * as written (`create`: the data, `czxid` = `mzxid` = the transaction's zxid, version 0;
 * `update`: the data and the `Stat` the answer carries), or with `undefined` when the `multi`
 * failed or its outcome is unknown (the watch then reads the node if it was notified).
 *
 * @module
 */
import type { RegistryPathIndex } from '@elasticjob-ts/core/adapter';
import type { MultiResult } from './multi-request.js';
import type { SubtreeWatch, WrittenNode } from './subtree-watch.js';
import type { ExpandedOperation } from './transaction-plan.js';

interface Announced {
  readonly watch: SubtreeWatch;
  readonly operation: ExpandedOperation;
  readonly index: number;
}

/** The announced writes of one `multi`; settle it exactly once (later calls do nothing). */
export class OwnWriteBatch {
  readonly #announced: Announced[] = [];
  #settled = false;

  /**
   * Announces the `create` and `update` operations of `operations` to the watches covering them.
   *
   * @param watches - the client's subtree watches.
   * @param operations - the `multi`'s operations, in order.
   */
  constructor(watches: RegistryPathIndex<SubtreeWatch>, operations: readonly ExpandedOperation[]) {
    operations.forEach((operation, index) => {
      if (operation.type !== 'create' && operation.type !== 'update') return;
      for (const watch of watches.covering(operation.path)) {
        if (watch.expectOwnWrite(operation.path)) this.#announced.push({ watch, operation, index });
      }
    });
  }

  /**
   * Settles every announced write, in operation order.
   *
   * @param results - the results of a successful `multi`, or `undefined` (failed, lost, abandoned).
   * @param transactionZxid - the `multi` answer's zxid (needed for creates; without it a create is
   *   settled as unknown).
   */
  settle(results: readonly MultiResult[] | undefined, transactionZxid: bigint | undefined): void {
    if (this.#settled) return;
    this.#settled = true;
    for (const { watch, operation, index } of this.#announced) {
      watch.settleOwnWrite(operation.path, writtenNode(operation, results?.[index], transactionZxid));
    }
  }
}

function writtenNode(
  operation: ExpandedOperation,
  result: MultiResult | undefined,
  transactionZxid: bigint | undefined,
): WrittenNode | undefined {
  if (result === undefined || (result.err !== undefined && result.err !== 0)) return undefined;
  const value = operation.data === undefined ? '' : operation.data.toString('utf8');
  if (operation.type === 'create') {
    if (transactionZxid === undefined) return undefined;
    return { value, czxid: transactionZxid, mzxid: transactionZxid, version: 0 };
  }
  const stat = result.stat;
  if (stat === undefined) return undefined;
  return { value, czxid: stat.czxid, mzxid: stat.mzxid, version: stat.version };
}
