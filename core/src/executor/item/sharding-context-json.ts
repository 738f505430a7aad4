/**
 * The JSON form of a {@link ShardingContext} that typed jobs hand to the outside world (the
 * `SCRIPT` job's last argument, the `HTTP` job's `shardingContext` header).
 *
 * @module
 */
import type { ShardingContext } from '../../job/sharding-context.js';

/**
 * Serializes a sharding context with ElasticJob's field order `jobName, taskId,
 * shardingTotalCount, jobParameter, shardingItem, shardingParameter`; an `undefined`
 * `shardingParameter` is omitted (as Gson omits nulls). The `signal` is not serialized.
 *
 * @param context - the item's context.
 * @returns e.g. `{"jobName":"orders","taskId":"…","shardingTotalCount":3,"jobParameter":"","shardingItem":1,"shardingParameter":"Shanghai"}`.
 */
export function shardingContextToJson(context: ShardingContext): string {
  return JSON.stringify({
    jobName: context.jobName,
    taskId: context.taskId,
    shardingTotalCount: context.shardingTotalCount,
    jobParameter: context.jobParameter,
    shardingItem: context.shardingItem,
    shardingParameter: context.shardingParameter,
  });
}

/**
 * {@link shardingContextToJson} with every non-ASCII character escaped as `\uXXXX`, so the JSON is a
 * valid HTTP header value (`fetch` only accepts Latin-1 header bytes) and still parses to the
 * same object.
 *
 * @param context - the item's context.
 */
export function shardingContextToAsciiJson(context: ShardingContext): string {
  return shardingContextToJson(context).replace(
    /[\u007f-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
