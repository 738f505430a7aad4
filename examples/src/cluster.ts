/**
 * A three-process cluster on a real registry: `node examples/dist/cluster.js --registry
 * zookeeper://127.0.0.1:2181/demo` (or `etcd://127.0.0.1:2379/demo`) starts three job instances,
 * each in its own OS process, that share a 6-item job firing every 10 seconds. Every item prints
 * when it starts and ends; the processes print their pids, so you can `kill -9` one of them in the
 * middle of a run and watch a survivor take its in-flight items over once the registry session
 * of the dead process expired (failover), then the leader reshard the items over the survivors.
 * Ctrl-C stops every instance gracefully.
 *
 * The registry adapter (`@elasticjob-ts/registry-zookeeper` or `@elasticjob-ts/registry-etcd`) is
 * loaded by `createRegistryCenter` from the URL's scheme; outside this repository install it next
 * to `@elasticjob-ts/core`.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type CoordinatorRegistryCenter,
  createRegistryCenter,
  type Logger,
  type RegistryCenterConfiguration,
  ScheduleJobBootstrap,
  type ShardingContext,
} from '@elasticjob-ts/core';

const INSTANCES = ['instance-A', 'instance-B', 'instance-C'];
/** Session timeout of every instance: how long a `kill -9`ed instance still counts as alive. */
const SESSION_TIMEOUT_MS = 5000;
/** How long each item "works". */
const ITEM_DURATION_MS = 4000;
const JOB = {
  jobName: 'orders',
  cron: '0/10 * * * * ?',
  shardingTotalCount: 6,
  shardingItemParameters: '0=Beijing,1=Shanghai,2=Guangzhou,3=Shenzhen,4=Hangzhou,5=Chengdu',
  failover: true,
  monitorExecution: true,
};
const USAGE =
  'usage: node examples/dist/cluster.js --registry zookeeper://127.0.0.1:2181/demo\n' +
  '       node examples/dist/cluster.js --registry etcd://127.0.0.1:2379/demo';

/**
 * Turns `zookeeper://host:port[,host:port]/namespace` or `etcd://host:port[,host:port]/namespace`
 * into a registry configuration.
 *
 * @param url - the `--registry` value.
 * @returns the configuration for `createRegistryCenter`.
 * @throws {Error} for another scheme, no host or no namespace.
 */
function registryFromUrl(url: string): RegistryCenterConfiguration {
  const match = /^(zookeeper|etcd):\/\/([^/]+)\/(.+)$/.exec(url);
  if (match === null) throw new Error(`invalid --registry '${url}'\n${USAGE}`);
  const [, scheme, hosts, namespace] = match as unknown as [string, string, string, string];
  const hostList = hosts.split(',').filter((host) => host !== '');
  if (scheme === 'zookeeper') {
    return {
      type: 'zookeeper',
      serverLists: hostList.join(','),
      namespace,
      sessionTimeoutMs: SESSION_TIMEOUT_MS,
    };
  }
  return {
    type: 'etcd',
    endpoints: hostList.map((host) => `http://${host}`),
    namespace,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
  };
}

function time(): string {
  return new Date().toISOString().slice(11, 23);
}

/** A compact console logger: the kernel's info and warnings (failover, resharding) on one line each. */
function consoleLogger(name: string, bindings: Record<string, unknown> = {}): Logger {
  const write =
    (level: string) =>
    (contextOrMessage: object | string, message?: string): void => {
      const text = typeof contextOrMessage === 'string' ? contextOrMessage : (message ?? '');
      const context = typeof contextOrMessage === 'string' ? {} : { ...contextOrMessage };
      const err = (context as { err?: unknown }).err;
      if (err !== undefined)
        (context as { err?: unknown }).err = err instanceof Error ? err.message : String(err);
      const extra = Object.keys(context).length > 0 ? ` ${JSON.stringify(context)}` : '';
      console.log(`${time()} [${name}] kernel ${level}: ${text}${extra}`);
    };
  const logger: Logger = {
    debug: () => {},
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (more) => consoleLogger(name, { ...bindings, ...more }),
  };
  return logger;
}

/** One job instance (child process mode). */
async function runInstance(url: string, name: string): Promise<void> {
  const registry: CoordinatorRegistryCenter = await createRegistryCenter(registryFromUrl(url));
  const job = {
    async execute(context: ShardingContext): Promise<void> {
      const what = `item ${context.shardingItem} (${context.shardingParameter})`;
      console.log(`${time()} [${name}] ${what} start`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ITEM_DURATION_MS);
        context.signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            resolve();
          },
          { once: true },
        );
      });
      console.log(`${time()} [${name}] ${what} ${context.signal.aborted ? 'aborted' : 'done'}`);
    },
  };
  const bootstrap = new ScheduleJobBootstrap(registry, job, JOB, { logger: consoleLogger(name) });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await bootstrap.shutdown();
    await registry.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  await bootstrap.schedule();
  console.log(`${time()} [${name}] scheduled as ${bootstrap.instance.jobInstanceId} (pid ${process.pid})`);
}

/** Starts the three instance processes and waits for them (parent mode). */
function runCluster(url: string): void {
  registryFromUrl(url); // fail fast on a bad URL
  const script = fileURLToPath(import.meta.url);
  console.log(
    `Job '${JOB.jobName}': ${JOB.shardingTotalCount} items, cron '${JOB.cron}', items take ${ITEM_DURATION_MS} ms, ` +
      `failover on, session timeout ${SESSION_TIMEOUT_MS} ms, registry ${url}.\n` +
      'Kill one instance with `kill -9 <pid>` while its items run, and watch a survivor take them over.\n',
  );
  let stopping = false;
  const children = INSTANCES.map((name) => {
    const child = spawn(process.execPath, [script, '--registry', url, '--instance', name], {
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    console.log(`${time()} started ${name} as pid ${child.pid}`);
    child.on('exit', (code, signal) => {
      if (stopping) return;
      console.log(
        `${time()} ${name} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); its in-flight items fail over ` +
          `once its session expires (${SESSION_TIMEOUT_MS} ms)`,
      );
    });
    return child;
  });
  process.once('SIGINT', () => {
    stopping = true;
    console.log('\nCtrl-C: stopping every instance');
    for (const child of children) child.kill('SIGTERM');
  });
}

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index < 0 ? undefined : process.argv[index + 1];
}

const url = argument('--registry');
const instance = argument('--instance');
if (url === undefined) {
  console.error(USAGE);
  process.exit(2);
} else if (instance === undefined) {
  runCluster(url);
} else {
  runInstance(url, instance).catch((error: unknown) => {
    console.error(`[${instance}] failed:`, error);
    process.exit(1);
  });
}
