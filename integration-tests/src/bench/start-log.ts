/**
 * A benchmark process's item-start log: one fixed-size binary record per item start (job index,
 * item, start epoch ms, execution source), appended with a synchronous write as each start happens,
 * so that a process killed with SIGKILL leaves every start it made on disk (what an IPC message
 * sent later would lose). Compact at 10,000 jobs: 32 bytes per start, read back by the parent once.
 *
 * @module
 */
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { ExecutionSource } from '@elasticjob-ts/core';

/** Numbers per record: job index, item, start epoch ms, source code. */
const FIELDS = 4;
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
   */
  append(jobIndex: number, item: number, startMs: number, source: ExecutionSource): void {
    this.#record[0] = jobIndex;
    this.#record[1] = item;
    this.#record[2] = startMs;
    this.#record[3] = SOURCES.indexOf(source);
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
    starts.push({
      jobIndex: values[at] as number,
      item: values[at + 1] as number,
      startMs: values[at + 2] as number,
      source: SOURCES[values[at + 3] as number] ?? 'NORMAL_TRIGGER',
    });
  }
  return starts;
}
