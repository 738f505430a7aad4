/**
 * The embedded demo (`npm start`): three job instances in one process share the in-memory
 * registry and run a 6-item job every 2 seconds. Each fire prints which instance ran which items;
 * after four fires one instance stops and its items move to the others. Stops by itself after
 * about 20 seconds, or on Ctrl-C.
 *
 * With `--observe` (`npm run start:observed`) the same demo also writes every execution and status
 * change to an embedded SQLite history file and serves Prometheus metrics on 127.0.0.1:9464
 * (see `demo-observability.ts`); it prints where to look.
 *
 * @module
 */
import { parseArgs } from 'node:util';
import {
  type CoordinatorRegistryCenter,
  createRegistryCenter,
  ScheduleJobBootstrap,
  type ShardingContext,
  silentLogger,
} from '@elasticjob-ts/core';
import { MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import type { DemoObservability } from './demo-observability.js';

const JOB = {
  jobName: 'orders',
  cron: '0/2 * * * * ?',
  shardingTotalCount: 6,
  shardingItemParameters: '0=Beijing,1=Shanghai,2=Guangzhou,3=Shenzhen,4=Hangzhou,5=Chengdu',
};
const FIRES_BEFORE_STOP = 4;
const FIRES_AFTER_STOP = 4;

interface Run {
  readonly instance: string;
  readonly item: number;
  readonly parameter: string | undefined;
}

const USAGE = 'usage: npm start [-- --observe]   (node examples/dist/demo.js [--observe] [--help])';

/** The demo's options: `--observe`, `--help`; anything else ends it with exit 2 and the usage. */
function readOptions(): { observe: boolean } {
  try {
    const { values } = parseArgs({
      options: { observe: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    });
    if (values.help === true) {
      console.log(USAGE);
      process.exit(0);
    }
    return { observe: values.observe };
  } catch (error) {
    console.error(`demo: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exit(2);
  }
}

async function main(): Promise<void> {
  const options = readOptions();
  // Loaded only with --observe: plain `npm start` does not load the database drivers.
  const observability: DemoObservability | undefined = options.observe
    ? await (await import('./demo-observability.js')).startDemoObservability(JOB.jobName)
    : undefined;
  const server = new MemoryRegistryServer();
  const runs: Run[] = [];
  const names = ['instance-A', 'instance-B', 'instance-C'];
  const bootstraps: ScheduleJobBootstrap[] = [];
  const registries: CoordinatorRegistryCenter[] = [];
  for (const [index, name] of names.entries()) {
    const registry = await createRegistryCenter({ type: 'memory', server, namespace: 'elasticjob-demo' });
    registries.push(registry);
    const job = {
      async execute(context: ShardingContext): Promise<void> {
        runs.push({ instance: name, item: context.shardingItem, parameter: context.shardingParameter });
      },
    };
    const bootstrap = new ScheduleJobBootstrap(registry, job, JOB, {
      instanceId: `192.168.0.${index + 1}@-@${name}`,
      serverIp: `192.168.0.${index + 1}`,
      logger: silentLogger,
    });
    await bootstrap.schedule();
    observability?.attach(bootstrap, registry);
    bootstraps.push(bootstrap);
  }
  console.log(
    `ElasticJob-TS demo: job '${JOB.jobName}' (${JOB.shardingTotalCount} sharding items, cron '${JOB.cron}') ` +
      `on ${names.length} job instances sharing one in-memory registry center.\n`,
  );

  let stopping = false;
  const shutdownAll = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await Promise.all(bootstraps.map((bootstrap) => bootstrap.shutdown()));
    await Promise.all(registries.map((registry) => registry.close()));
    await observability?.close();
  };
  process.once('SIGINT', () => {
    console.log('\nCtrl-C: shutting down');
    void shutdownAll().then(() => process.exit(130));
  });

  let fires = 0;
  let stopped: string | undefined;
  await new Promise<void>((resolve) => {
    const report = (): void => {
      if (stopping) {
        resolve();
        return;
      }
      const batch = runs.splice(0);
      if (batch.length > 0) {
        fires++;
        const leader = bootstraps.find((b) => b.isLeader());
        const line = names
          .map((name) => {
            const items = batch
              .filter((run) => run.instance === name)
              .map((run) => `${run.item}:${run.parameter}`)
              .sort();
            return `${name}${leader?.instance.jobInstanceId.endsWith(name) ? '*' : ' '} [${items.join(', ')}]`;
          })
          .join('  ');
        console.log(
          `${new Date(Date.now() - 1000).toISOString().slice(11, 19)}  fire ${String(fires).padStart(2)}  ${line}`,
        );
      }
      if (fires === FIRES_BEFORE_STOP && stopped === undefined) {
        const victim = bootstraps[0] as ScheduleJobBootstrap;
        stopped = names[0];
        console.log(`\n>>> shutting down ${stopped}: its items move to the other instances\n`);
        void victim.shutdown();
      }
      if (fires >= FIRES_BEFORE_STOP + FIRES_AFTER_STOP) {
        resolve();
        return;
      }
      setTimeout(report, 2000 - (Date.now() % 2000) + 1000);
    };
    setTimeout(report, 2000 - (Date.now() % 2000) + 1000);
  });
  console.log('\n(* = leader)  Done: shutting down the remaining instances.');
  await shutdownAll();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
