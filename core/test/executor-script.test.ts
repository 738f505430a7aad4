import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobSystemError } from '../src/error-handler/index.js';
import { parseScriptCommandLine, resolveJobItemExecutor } from '../src/executor/index.js';
import type { JobRuntime } from '../src/job/elastic-job.js';
import type { ShardingContext } from '../src/job/sharding-context.js';
import { jobConfigurationWith } from './support/job-fixtures.js';

const NODE = JSON.stringify(process.execPath);

function contextOf(signal: AbortSignal, shardingParameter: string | undefined): ShardingContext {
  return {
    fencingToken: 1,
    jobName: 'exporter',
    taskId: 'exporter@-@0,1@-@READY@-@10.0.0.1@-@42',
    shardingTotalCount: 2,
    jobParameter: 'full "export"',
    shardingItem: 1,
    shardingParameter,
    signal,
  };
}

async function runScript(
  commandLine: string,
  signal = new AbortController().signal,
  parameter?: string,
  props: Record<string, string> = {},
) {
  const config = jobConfigurationWith({ 'script.command.line': commandLine, ...props }, 'exporter', 2);
  const runtime: JobRuntime = { configuration: config, isNeedSharding: async () => false };
  const { executor } = resolveJobItemExecutor('SCRIPT', config);
  await executor.process(contextOf(signal, parameter), runtime);
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'elasticjob-script-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('SCRIPT job', () => {
  it('runs without a shell and appends the sharding context JSON as one argument', async () => {
    const out = join(dir, 'argv.json');
    const script = "require('node:fs').writeFileSync(process.argv[1], JSON.stringify(process.argv.slice(2)))";
    await runScript(`${NODE} -e "${script}" ${out} 'two words' $HOME "*" ">x"`);
    const args = JSON.parse(await readFile(out, 'utf8')) as string[];
    expect(args.slice(0, 4)).toEqual(['two words', '$HOME', '*', '>x']);
    expect(args).toHaveLength(5);
    expect(args[4]).toBe(
      '{"jobName":"exporter","taskId":"exporter@-@0,1@-@READY@-@10.0.0.1@-@42","shardingTotalCount":2,' +
        '"jobParameter":"full \\"export\\"","shardingItem":1}',
    );
  });

  it('passes the sharding parameter when the item has one', async () => {
    const out = join(dir, 'context.json');
    const script = "require('node:fs').writeFileSync(process.argv[1], process.argv.at(-1))";
    await runScript(`${NODE} -e "${script}" ${out}`, undefined, 'Beijing');
    expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({
      shardingItem: 1,
      shardingParameter: 'Beijing',
    });
  });

  it('fails the item on a non-zero exit, naming the command and the code', async () => {
    const failure = runScript(`${NODE} -e "process.exit(3)"`);
    await expect(failure).rejects.toThrow(JobSystemError);
    await expect(failure).rejects.toMatchObject({ code: 'ITEM_FAILED' });
    await expect(failure).rejects.toThrow(
      /SCRIPT job 'exporter' item 1: command '.*node.* -e process\.exit\(3\)' exited with code 3/,
    );
  });

  it('fails the item when the program cannot start', async () => {
    await expect(runScript('/nonexistent/elasticjob-no-such-program --flag')).rejects.toThrow(
      /command '\/nonexistent\/elasticjob-no-such-program --flag' failed to start: .*ENOENT/,
    );
  });

  it('kills the child with SIGTERM when the signal aborts', async () => {
    const pidFile = join(dir, 'pid');
    const script =
      "require('node:fs').writeFileSync(process.argv[1], String(process.pid)); setInterval(() => {}, 1000)";
    const controller = new AbortController();
    const run = runScript(`${NODE} -e "${script}" ${pidFile}`, controller.signal);
    const pid = await vi.waitFor(
      async () => {
        const text = await readFile(pidFile, 'utf8');
        if (!/^\d+$/.test(text)) throw new Error(`pid file not written yet: '${text}'`);
        return Number(text);
      },
      { timeout: 10_000, interval: 20 },
    );
    controller.abort();
    await expect(run).rejects.toThrow(/was killed by SIGTERM \(the run was aborted\)/);
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('kills the child with SIGKILL when it ignores SIGTERM for longer than script.kill.grace.milliseconds', async () => {
    const pidFile = join(dir, 'pid');
    const script =
      "process.on('SIGTERM', () => {}); require('node:fs').writeFileSync(process.argv[1], String(process.pid)); setInterval(() => {}, 1000)";
    const controller = new AbortController();
    const graceMs = 300;
    const run = runScript(`${NODE} -e "${script}" ${pidFile}`, controller.signal, undefined, {
      'script.kill.grace.milliseconds': String(graceMs),
    });
    const pid = await vi.waitFor(
      async () => {
        const text = await readFile(pidFile, 'utf8');
        if (!/^\d+$/.test(text)) throw new Error(`pid file not written yet: '${text}'`);
        return Number(text);
      },
      { timeout: 10_000, interval: 20 },
    );
    const abortedAtMs = performance.now();
    controller.abort();
    await expect(run).rejects.toThrow(/was killed by SIGKILL \(the run was aborted\)/);
    // It survived SIGTERM: SIGKILL came only after the grace period.
    expect(performance.now() - abortedAtMs).toBeGreaterThanOrEqual(graceMs - 5);
    expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
  });

  it('refuses a script.kill.grace.milliseconds that is not a positive integer, naming the prop', () => {
    const config = jobConfigurationWith(
      { 'script.command.line': 'true', 'script.kill.grace.milliseconds': '-1' },
      'exporter',
      2,
    );
    expect(() => resolveJobItemExecutor('SCRIPT', config)).toThrow(
      /prop 'script\.kill\.grace\.milliseconds' must be a positive integer, got '-1'/,
    );
  });

  it('does not start when the signal is already aborted', async () => {
    const out = join(dir, 'never');
    const controller = new AbortController();
    controller.abort();
    await expect(
      runScript(
        `${NODE} -e "require('node:fs').writeFileSync(process.argv[1], '')" ${out}`,
        controller.signal,
      ),
    ).rejects.toThrow(/not started: the run was aborted/);
    await expect(readFile(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('splits command lines like commons-exec', () => {
    const split = (line: string) => parseScriptCommandLine({ 'script.command.line': line }, 'j');
    expect(split('  /bin/run.sh  -a "b c"  \'d "e"\' f"g h"i ')).toEqual([
      '/bin/run.sh',
      '-a',
      'b c',
      'd "e"',
      'fg hi',
    ]);
    expect(split('cmd ""')).toEqual(['cmd', '']);
    expect(() => split('""')).toThrow(/names no program/);
    expect(() => parseScriptCommandLine({}, 'j')).toThrow(
      "Invalid configuration of job 'j': prop 'script.command.line' is required (the SCRIPT job type)",
    );
  });
});
