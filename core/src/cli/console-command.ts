/**
 * `elasticjob console`: starts the web console and REST API (the `@elasticjob-ts/console`
 * package, loaded on demand so the core does not depend on it) on the CLI's registry connection,
 * until SIGINT/SIGTERM.
 *
 * @module
 */
import type { Command } from 'commander';
import type { CoordinatorRegistryCenter } from '../registry/registry-center.js';
import { CliError, ExitCode } from './errors.js';

/** The part of `@elasticjob-ts/console` the command uses. */
interface ConsoleModule {
  startConsole(options: {
    registries: { client: CoordinatorRegistryCenter; type?: string }[];
    historyUrl?: string;
    host?: string;
    port?: number;
    usersFile?: string;
    readOnly?: boolean;
    secureCookies?: boolean;
  }): Promise<{ url: string; close(): Promise<void> }>;
}

/** What the command needs from the CLI around it. */
export interface ConsoleCommandContext {
  /** Runs the action with a connected registry and closes it afterwards. */
  readonly withRegistry: (
    command: Command,
    action: (context: { registry: CoordinatorRegistryCenter; out: (text: string) => void }) => Promise<void>,
  ) => () => Promise<void>;
  /** Resolves with the first of SIGINT/SIGTERM. */
  readonly waitForStopSignal: () => Promise<string>;
  /** Loads the console package (tests inject it). Default: a dynamic import of the console package. */
  readonly loadConsole?: () => Promise<ConsoleModule>;
}

const CONSOLE_PACKAGE = '@elasticjob-ts/console';
/** Errors of the console package that mean a bad option (exit code 2). */
const USAGE_ERRORS: ReadonlySet<string> = new Set(['ConsoleOptionsError', 'UsersFileError']);

async function importConsole(): Promise<ConsoleModule> {
  try {
    // A variable specifier: the core neither bundles nor type-checks against the optional package.
    const specifier = CONSOLE_PACKAGE;
    return (await import(specifier)) as ConsoleModule;
  } catch (error) {
    throw new CliError(
      ExitCode.USAGE,
      `'elasticjob console' needs the package ${CONSOLE_PACKAGE}: npm install ${CONSOLE_PACKAGE}`,
      { cause: error },
    );
  }
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) {
    throw new CliError(
      ExitCode.USAGE,
      `Invalid --port ${JSON.stringify(value)}: expected an integer from 0 to 65535`,
    );
  }
  return port;
}

/**
 * Registers `console` on the program.
 *
 * @param program - the `elasticjob` program.
 * @param context - registry connection, stop signal, console loader.
 */
export function registerConsoleCommand(program: Command, context: ConsoleCommandContext): void {
  const command = program
    .command('console')
    .description(
      'start the web console and REST API on this registry (binds 127.0.0.1; other addresses need --users)',
    )
    .option(
      '--history <db-url>',
      'execution history database to search (sqlite:./history.db, postgres://...)',
    )
    .option('--host <address>', 'address to bind', '127.0.0.1')
    .option('--port <n>', 'TCP port (0 = any free port)', parsePort, 8899)
    .option('--users <file>', 'users file: users with scrypt password hashes, roles, API tokens, readOnly')
    .option('--read-only', 'refuse every operation and configuration change, whatever the role')
    .option('--secure-cookies', 'mark the session cookie Secure (when served behind HTTPS)');
  command.action(
    context.withRegistry(command, async ({ registry, out }) => {
      const options = command.opts<{
        history?: string;
        host: string;
        port: number;
        users?: string;
        readOnly?: boolean;
        secureCookies?: boolean;
      }>();
      const module = await (context.loadConsole ?? importConsole)();
      let running: Awaited<ReturnType<ConsoleModule['startConsole']>>;
      try {
        running = await module.startConsole({
          registries: [{ client: registry }],
          ...(options.history === undefined ? {} : { historyUrl: options.history }),
          host: options.host,
          port: options.port,
          ...(options.users === undefined ? {} : { usersFile: options.users }),
          readOnly: options.readOnly === true,
          secureCookies: options.secureCookies === true,
        });
      } catch (error) {
        // The console names the option at fault (a non-loopback --host without --users, a bad users file).
        if (error instanceof Error && USAGE_ERRORS.has(error.name)) {
          throw new CliError(ExitCode.USAGE, error.message, { cause: error });
        }
        throw error;
      }
      out(`Console at ${running.url} (Ctrl-C to stop)\n`);
      try {
        await context.waitForStopSignal();
      } finally {
        await running.close();
      }
    }),
  );
}
