/**
 * A benchmark process's item-start log: one fixed-size binary record per item start (job index,
 * item, start epoch ms, execution source, the cron fire the run serves), appended with a synchronous write as each start happens,
 * so that a process killed with SIGKILL leaves every start it made on disk (what an IPC message
 * sent later would lose). Compact at 10,000 jobs: 40 bytes per start, read back by the parent once.
 *
 * @module
 */
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { ExecutionSource } from '@elasticjob-ts/core';

/** Numbers per record: job index, item, start epoch ms, source code, fire epoch ms (NaN: none). */
const FIELDS = 5;
const RECORD_BYTES = FIELDS * Float64Array.BYTES_PER_ELEMENT;
const SOURCES: readonly ExecutionSource[] = ['NORMAL_TRIGGER', 'MISFIRE', 'FAILOVER'];

/** One item start read back from a log. */
export interface ItemStart {
  /** Index of the job in its process's job list (`{namePrefix}-{jobIndex}`). */
  readonly jobIndex: number;
  readonly item: number;
  /** When the item started (the kernel's execution event `startTimeMs`), epoch ms. */
  readonly startMs: number;
  readonly source: ExecutionSource;
  /**
   * The cron fire the run serves, epoch ms (the execution event's `scheduledFireTimeMs`): only
   * cron runs have one. A cron run held back past its next fire starts after that fire.
   */
  readonly fireMs?: number;
}

/** Appends item starts to a file, one synchronous write per start. */
export class StartLogWriter {
  readonly #fd: number;
  readonly #record = new Float64Array(FIELDS);

  /** @param file - the log file (created; appended to when it exists). */
  constructor(file: string) {
    this.#fd = openSync(file, 'a');
  }

  /**
   * Records one item start.
   *
   * @param jobIndex - the job's index in the process's job list.
   * @param item - the sharding item.
   * @param startMs - its start, epoch ms.
   * @param source - what started the run.
   * @param fireMs - the cron fire the run serves, epoch ms; `undefined` when it serves none.
   */
  append(
    jobIndex: number,
    item: number,
    startMs: number,
    source: ExecutionSource,
    fireMs: number | undefined,
  ): void {
    this.#record[0] = jobIndex;
    this.#record[1] = item;
    this.#record[2] = startMs;
    this.#record[3] = SOURCES.indexOf(source);
    this.#record[4] = fireMs ?? Number.NaN;
    writeSync(this.#fd, this.#record);
  }

  /** Closes the file. */
  close(): void {
    closeSync(this.#fd);
  }
}

/**
 * Reads a log written by {@link StartLogWriter} (a torn last record, from a kill mid-write, is
 * dropped).
 *
 * @param file - the log file.
 * @returns the starts in the order they were written; none when the file does not exist.
 */
export function readStartLog(file: string): ItemStart[] {
  if (!existsSync(file)) return [];
  const bytes = readFileSync(file);
  const count = Math.floor(bytes.byteLength / RECORD_BYTES);
  const values = new Float64Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + count * RECORD_BYTES),
  );
  const starts: ItemStart[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * FIELDS;
    const fireMs = values[at + 4] as number;
    starts.push({
      jobIndex: values[at] as number,
      item: values[at + 1] as number,
      startMs: values[at + 2] as number,
      source: SOURCES[values[at + 3] as number] ?? 'NORMAL_TRIGGER',
      ...(Number.isNaN(fireMs) ? {} : { fireMs }),
    });
  }
  return starts;
}
