/**
 * Small process helpers shared by the test-server harnesses (ZooKeeper, etcd): spawn a server
 * process that dies with this process, stop or kill it, wait for a condition, make a temp dir.
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** How a managed process ended. */
export interface ProcessExit {
  /** Exit code, or `null` when it was ended by a signal. */
  readonly code: number | null;
  /** The ending signal, or `null` when it exited by itself. */
  readonly signal: NodeJS.Signals | null;
}

/** A child process started by {@link spawnManagedProcess}. */
export interface ManagedProcess {
  /** OS process id of the server process itself (not of a wrapper shell). */
  readonly pid: number;
  /** Resolves once the process has exited (never rejects). */
  readonly exited: Promise<ProcessExit>;
  /** Whether the process is still running. */
  isRunning(): boolean;
  /** The last output (stdout and stderr interleaved), at most `outputLimitBytes` characters. */
  output(): string;
  /**
   * Ends the process: `SIGTERM`, then `SIGKILL` if it is still running after `graceMs`.
   * Resolves once it has exited. Idempotent.
   *
   * @param graceMs - wait before escalating to `SIGKILL`, in ms (default 10000).
   */
  stop(graceMs?: number): Promise<ProcessExit>;
  /** Sends `SIGKILL` and resolves once the process has exited. Idempotent. */
  kill(): Promise<ProcessExit>;
}

/** Options of {@link spawnManagedProcess}. */
export interface SpawnManagedProcessOptions {
  /** Working directory. @defaultValue the current directory */
  readonly cwd?: string;
  /** Extra environment variables, merged over `process.env`. */
  readonly env?: Readonly<Record<string, string>>;
  /** How much trailing output to keep for error messages, in characters. @defaultValue 65536 */
  readonly outputLimitBytes?: number;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone: nothing left to clean up
      }
    }
  });
}

// `exec` keeps the server's pid equal to the wrapper shell's pid; the background watchdog holds a
// copy of our stdin pipe and SIGKILLs the server when the pipe closes, i.e. when this process dies
// for any reason (even SIGKILL, when no 'exit' hook runs).
const WATCHDOG_SCRIPT =
  'exec 3<&0; server=$$; ( read -r _ <&3; kill -9 "$server" ) >/dev/null 2>&1 & exec 3<&-; exec "$@"';

/**
 * Spawns a long-running server process that cannot outlive this process: it is SIGKILLed on
 * `process.exit` and, through a watchdog on its stdin pipe, also when this process is killed.
 *
 * @param command - executable (looked up on `PATH`).
 * @param args - arguments, passed without a shell interpretation.
 * @param options - cwd, env and output buffer size.
 * @returns the managed process.
 * @throws {Error} when the process cannot be spawned.
 */
export function spawnManagedProcess(
  command: string,
  args: readonly string[],
  options: SpawnManagedProcessOptions = {},
): ManagedProcess {
  installExitHook();
  const limit = options.outputLimitBytes ?? 65_536;
  const child = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'watchdog', command, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) {
    throw new Error(`Could not spawn '${command}'`);
  }
  const pid = child.pid;
  running.add(child);
  let output = '';
  const append = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    if (output.length > limit) output = output.slice(output.length - limit);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  child.stdin?.on('error', () => {
    // the watchdog already exited; nothing to report
  });
  let alive = true;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, signal) => {
      alive = false;
      running.delete(child);
      child.stdin?.end();
      resolve({ code, signal });
    });
    child.once('error', () => {
      alive = false;
      running.delete(child);
      resolve({ code: null, signal: null });
    });
  });
  const send = (signal: NodeJS.Signals): void => {
    if (!alive) return;
    try {
      process.kill(pid, signal);
    } catch {
      // exited in the meantime
    }
  };
  return {
    pid,
    exited,
    isRunning: () => alive,
    output: () => output,
    async stop(graceMs = 10_000) {
      send('SIGTERM');
      const timer = setTimeout(() => send('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
    async kill() {
      send('SIGKILL');
      return exited;
    },
  };
}

/** Options of {@link waitUntil}. */
export interface WaitUntilOptions {
  /** Give up after this long, in ms. */
  readonly timeoutMs: number;
  /** Pause between checks, in ms. @defaultValue 100 */
  readonly intervalMs?: number;
  /** What is awaited, for the timeout error message. */
  readonly description: string;
  /** Stop waiting early (reject) when this returns a reason string, e.g. "the process exited". */
  readonly abortIf?: () => string | undefined;
}

/**
 * Polls `check` until it returns `true` (an exception counts as `false`).
 *
 * @param check - the condition.
 * @param options - timeout, interval, description and early abort.
 * @throws {Error} naming `description` (and the last check error) on timeout or abort.
 */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  options: WaitUntilOptions,
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const intervalMs = options.intervalMs ?? 100;
  let lastError: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    const abortReason = options.abortIf?.();
    if (abortReason !== undefined) {
      throw new Error(`Gave up waiting for ${options.description}: ${abortReason}`, { cause: lastError });
    }
    if (Date.now() >= deadline) {
      throw new Error(`Timed out after ${options.timeoutMs} ms waiting for ${options.description}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Creates a fresh temporary directory under the OS temp dir.
 *
 * @param prefix - directory name prefix, e.g. `elasticjob-zk-`.
 * @returns its absolute path.
 */
export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * Removes a directory tree; a missing directory is fine.
 *
 * @param dir - absolute path.
 */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * Finds an executable on `PATH` (or checks an absolute/relative path).
 *
 * @param command - executable name or path.
 * @returns its path, or `undefined` when not found.
 */
export function findExecutable(command: string): string | undefined {
  const candidates = command.includes('/')
    ? [command]
    : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here; try the next PATH entry
    }
  }
  return undefined;
}
