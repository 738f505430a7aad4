/**
 * Wall time of one `elasticjob` CLI command, from spawn to exit, per registry backend: what an
 * operator waits for, and what the CLI tests pay about fifty times per backend. Measures
 * `elasticjob jobs --registry <url>` against a namespace holding one job (process start, imports,
 * connection, one read of every job's configuration, close) and `elasticjob --help` (process start
 * and imports alone), this build and `BENCH_BASELINE`'s alternating, so that both see the same
 * machine and the same servers.
 *
 * ```sh
 * node integration-tests/dist/bench/cli-startup.js
 * BENCH_BASELINE=<another checkout, built> CLI_RUNS=8 BENCH_BACKENDS=zookeeper,etcd,redis \
 *   node integration-tests/dist/bench/cli-startup.js
 * ```
 *
 * Prints, per backend and command, the median and the range in ms of `CLI_RUNS` runs (default 8).
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  createRegistryCenter,
  type RegistryCenterConfiguration,
  ScheduleJobBootstrap,
  silentLogger,
} from '@elasticjob-ts/core';
import { BACKEND_NAMES, type BackendName, startBackend } from './backends.js';
import { listEnv, positiveNumberEnv } from './bench-env.js';
import { percentile } from './stats.js';

const run = promisify(execFile);
const NAMESPACE = 'bench-cli';
/** A cron that never fires while the benchmark runs (year 2099). */
const NEVER = '0 0 0 1 1 ? 2099';

/**
 * The `--registry` URL of a benchmark backend's configuration.
 *
 * @param configuration - from `Backend.configuration`.
 * @returns e.g. `zookeeper://127.0.0.1:2181/bench-cli`, `etcd://127.0.0.1:2379/bench-cli`.
 */
export function cliRegistryUrl(configuration: RegistryCenterConfiguration): string {
  const options = configuration as unknown as Record<string, unknown>;
  switch (configuration.type) {
    case 'zookeeper':
      return `zookeeper://${String(options.serverLists)}/${NAMESPACE}`;
    case 'etcd':
      return `etcd://${[options.endpoints]
        .flat()
        .map((endpoint) => String(endpoint).replace(/^http:\/\//, ''))
        .join(',')}/${NAMESPACE}`;
    case 'redis':
      return `${String(options.url).replace(/\/+$/, '')}/${NAMESPACE}`;
    default:
      throw new Error(`no CLI URL for a ${configuration.type} registry`);
  }
}

async function timeCommand(main: string, args: readonly string[]): Promise<number> {
  const started = performance.now();
  await run(process.execPath, [main, ...args], { env: { ...process.env, ELASTICJOB_LOG_LEVEL: 'silent' } });
  return performance.now() - started;
}

function describe(samples: readonly number[]): string {
  const rounded = samples.map(Math.round);
  return `${Math.round(percentile(samples, 50))} (${Math.min(...rounded)}–${Math.max(...rounded)})`;
}

async function main(): Promise<void> {
  const runs = positiveNumberEnv(process.env, 'CLI_RUNS', 8);
  const backends = listEnv<BackendName>(process.env, 'BENCH_BACKENDS', BACKEND_NAMES, BACKEND_NAMES);
  const here = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
  const builds: Array<[string, string]> = [['this', resolve(here, 'core/dist/cli/main.js')]];
  const baseline = process.env.BENCH_BASELINE;
  if (baseline !== undefined && baseline !== '') {
    builds.push(['baseline', resolve(baseline, 'core/dist/cli/main.js')]);
  }
  console.log(
    `elasticjob CLI, wall time per command in ms, median (min–max) of ${runs}; ${new Date().toISOString()}`,
  );
  console.log(`| backend | command | ${builds.map(([name]) => name).join(' | ')} |`);
  console.log(`| --- | --- | ${builds.map(() => '---').join(' | ')} |`);
  for (const name of backends) {
    const backend = await startBackend(name);
    const configuration = backend.configuration(NAMESPACE, 10_000);
    const registry = await createRegistryCenter(configuration);
    const bootstrap = new ScheduleJobBootstrap(
      registry,
      { execute() {} },
      { jobName: 'orders', cron: NEVER, shardingTotalCount: 2 },
      { logger: silentLogger },
    );
    try {
      await bootstrap.schedule();
      const url = cliRegistryUrl(configuration);
      for (const [command, args] of [
        ['jobs', ['jobs', '--registry', url]],
        ['--help', ['--help']],
      ] as const) {
        const samples = new Map(builds.map(([build]) => [build, [] as number[]]));
        for (let i = 0; i < runs; i++) {
          for (const [build, mainScript] of builds)
            samples.get(build)!.push(await timeCommand(mainScript, args));
        }
        console.log(
          `| ${name} | ${command} | ${builds.map(([build]) => describe(samples.get(build)!)).join(' | ')} |`,
        );
      }
    } finally {
      await bootstrap.shutdown();
      await registry.close();
      await backend.stop();
    }
  }
}

await main();
