/**
 * A kernel {@link Logger} that writes into the simulation's trace (`--kernel-log`): one line per
 * log call, `log <level> <message> <context as JSON>`, on the process's trace actor, so the
 * kernel's own account of a replayed seed sits between the faults and runs it explains.
 *
 * @module
 */
import type { Logger, LogMethod } from '@elasticjob-ts/core';
import type { Trace } from './trace.js';

function describe(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  return value;
}

/**
 * @param trace - the seed's trace.
 * @param actor - the trace actor (`p3`).
 * @param bindings - fields added to every line (`child()` bindings).
 */
export function traceLogger(trace: Trace, actor: string, bindings: Record<string, unknown> = {}): Logger {
  const at =
    (level: string): LogMethod =>
    (first: string | object, message?: string) => {
      const context = typeof first === 'string' ? {} : first;
      const text = typeof first === 'string' ? first : (message ?? '');
      const fields = { ...bindings, ...context };
      const json = JSON.stringify(fields, (_key, value: unknown) => describe(value));
      trace.add(actor, `log ${level} ${text}${json === '{}' ? '' : ` ${json}`}`);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => traceLogger(trace, actor, { ...bindings, ...more }),
  };
}
