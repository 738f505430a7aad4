#!/usr/bin/env node
/**
 * `npm run simulate -- --seeds 100000 [--from S] [--minutes M] [--workers W]` runs seeds (in W
 * worker threads, default one per CPU) and prints seeds/s,
 * simulated cluster-hours, violations by kind and, per failing seed (the first few), the trace that
 * led to the failure. `--seed S --trace` replays one seed exactly and prints its whole trace.
 * Exits 1 when any violation was found.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError, Option } from 'commander';
import { runSeeds, traceOfViolation } from './batch.js';
import { EVENT_CHANNEL_MODES, type EventChannelMode, simulateSeed } from './simulation.js';

function integer(name: string, min: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) {
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got '${value}'`);
    }
    return parsed;
  };
}

function positive(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new InvalidArgumentError(
      `--minutes must be a positive number of simulated minutes, got '${value}'`,
    );
  }
  return parsed;
}

const program = new Command()
  .name('simulate')
  .description(
    'Deterministic simulation of an ElasticJob-TS cluster (the real kernel on simulated time and faults)',
  )
  .option('--seeds <n>', 'number of seeds to run', integer('--seeds', 1), 100)
  .option('--from <seed>', 'first seed', integer('--from', 0), 1)
  .option('--seed <seed>', 'replay this one seed', integer('--seed', 0))
  .option('--minutes <m>', 'simulated minutes per seed', positive, 2)
  .option(
    '--workers <n>',
    'worker threads running seeds in parallel (default: one per CPU)',
    integer('--workers', 1),
    availableParallelism(),
  )
  .addOption(
    new Option(
      '--event-channel <mode>',
      'how watch events reach each process: ordered with responses (ZooKeeper), separate (etcd, Redis), or mixed per process',
    )
      .choices(EVENT_CHANNEL_MODES)
      .default('ordered'),
  )
  .option('--trace', 'with --seed: print the whole trace')
  .option('--kernel-log', "with --seed --trace: put the kernel's logs into the trace")
  .option('--show <n>', 'failing seeds whose trace is printed', integer('--show', 0), 3)
  .action(
    async (options: {
      seeds: number;
      from: number;
      seed?: number;
      minutes: number;
      workers: number;
      eventChannel: EventChannelMode;
      trace?: boolean;
      kernelLog?: boolean;
      show: number;
    }) => {
      if (options.seed !== undefined) {
        const result = await simulateSeed(options.seed, {
          minutes: options.minutes,
          kernelLog: options.kernelLog ?? false,
          eventChannel: options.eventChannel,
        });
        if (options.trace) console.log(result.trace.format());
        console.log(
          `seed ${options.seed}: ${result.runCount} item runs, ${result.eventCount} events, ${result.checkedFires} (fire, item) pairs checked for loss, ${result.convergenceChecks} job(s) checked for convergence, ${(result.processMs / 3_600_000).toFixed(3)} cluster-hours, ${result.violations.length} violation(s)`,
        );
        for (const violation of result.violations) console.log(`  ${violation.kind}: ${violation.message}`);
        process.exitCode = result.violations.length > 0 ? 1 : 0;
        return;
      }
      let done = 0;
      const summary = await runSeeds({
        from: options.from,
        seeds: options.seeds,
        minutes: options.minutes,
        workers: options.workers,
        eventChannel: options.eventChannel,
        onResult: (outcome) => {
          done++;
          if (outcome.violationKinds.length > 0) {
            console.log(`seed ${outcome.seed}: ${[...new Set(outcome.violationKinds)].join(', ')}`);
          }
          if (done % 100 === 0) console.error(`... ${done}/${options.seeds} seeds`);
        },
      });
      const seconds = summary.elapsedMs / 1000;
      console.log('');
      console.log(
        `seeds ${options.from}..${options.from + options.seeds - 1} (${options.minutes} simulated min each, event channel ${options.eventChannel}, ${Math.min(options.workers, options.seeds)} worker thread(s))`,
      );
      console.log(
        `${summary.seeds} seeds in ${seconds.toFixed(1)} s: ${(summary.seeds / seconds).toFixed(2)} seeds/s`,
      );
      console.log(
        `${summary.clusterHours.toFixed(1)} simulated cluster-hours (process-hours), ${(summary.clusterHours / (summary.cpuMs / 60_000)).toFixed(1)} per CPU-minute; ${summary.runs} item runs`,
      );
      console.log(`failing seeds: ${summary.failures.length}`);
      for (const [kind, count] of [...summary.seedsByKind].sort((a, b) => b[1] - a[1])) {
        console.log(`  ${kind}: ${count} seed(s)`);
      }
      for (const failure of summary.failures.slice(0, options.show)) {
        const violation = failure.result?.violations[0];
        if (failure.result === undefined || violation === undefined) continue;
        console.log('');
        console.log(`--- seed ${failure.seed}: ${violation.kind}: ${violation.message}`);
        console.log(
          `--- replay: npm run simulate -- --seed ${failure.seed} --minutes ${options.minutes}${options.eventChannel === 'ordered' ? '' : ` --event-channel ${options.eventChannel}`} --trace`,
        );
        console.log(traceOfViolation(failure.result, violation));
      }
      process.exitCode = summary.failures.length > 0 ? 1 : 0;
    },
  );

await program.parseAsync();
