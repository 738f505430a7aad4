#!/usr/bin/env node
/**
 * The `elasticjob` executable: binds {@link runCli} to the process (argv, stdout/stderr, the
 * environment, SIGINT/SIGTERM) and sets the exit code.
 *
 * @module
 */
import { runCli } from './program.js';

function waitForStopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

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
