#!/usr/bin/env node
/**
 * The `elasticjob` executable: binds {@link runCli} to the process (argv, stdout/stderr, the
 * environment, SIGINT/SIGTERM) and sets the exit code.
 *
 * @module
 */
import { runCli } from './program.js';

/**
 * Resolves with the first of SIGINT, SIGTERM or a closed standard output (`EPIPE`: `elasticjob run
 * ... | head` after `head` exits), so that `run` shuts its jobs down gracefully in every case
 * instead of dying on the write and leaving its instance registered until its session expires.
 */
function waitForStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const stop = (reason: string) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.stdout.off('error', onOutputError);
      resolve(reason);
    };
    const onSignal = (signal: NodeJS.Signals) => stop(signal);
    const onOutputError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') stop('EPIPE on standard output');
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.stdout.on('error', onOutputError);
  });
}

// Output to a reader that has gone (EPIPE) is dropped rather than crashing the process mid-shutdown;
// any other output error still does.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

const exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  env: process.env,
  waitForStopSignal,
});
process.exitCode = exitCode;
// Everything was closed: exit once stdout and stderr are flushed, without waiting for the timers
// a client library keeps after its close (the etcd client's lingered about 200 ms on every command,
// measured). Should a flush never complete, do not hang the operator's shell either.
process.stdout.write('', () => process.stderr.write('', () => process.exit(exitCode)));
setTimeout(() => process.exit(exitCode), 2_000).unref();
