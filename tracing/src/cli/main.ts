#!/usr/bin/env node
/**
 * The `elasticjob-history` executable: `elasticjob history` for installs without core's CLI
 * delegation. Binds {@link runHistoryCli} to the process.
 *
 * @module
 */
import { runHistoryCli } from './history-cli.js';

process.exitCode = await runHistoryCli(
  process.argv.slice(2),
  {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
  },
  'elasticjob-history',
);
