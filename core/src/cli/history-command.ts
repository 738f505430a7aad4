/**
 * `elasticjob history`: delegated to the optional `@elasticjob-ts/tracing` package, imported when
 * the command runs so that core neither depends on it nor loads its database drivers otherwise.
 * Without it installed, the command says how to install it (exit code 2).
 *
 * @module
 */
import { ExitCode } from './errors.js';

/** Output and environment handed to the tracing package's `runHistoryCli`. */
export interface HistoryCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

interface TracingCliModule {
  runHistoryCli(argv: readonly string[], io: HistoryCommandIo): Promise<number>;
}

/** The package that implements `elasticjob history`. */
export const TRACING_PACKAGE = '@elasticjob-ts/tracing';

/**
 * Runs `elasticjob history <argv...>` through `@elasticjob-ts/tracing`.
 *
 * @param argv - the words after `history`.
 * @param io - output and environment.
 * @param load - imports the tracing package (tests inject a failing one). @defaultValue a dynamic `import()`
 * @returns the exit code of `runHistoryCli`, or 2 when the package is not installed.
 * @throws the import error when the package is installed but fails to load.
 */
export async function runHistoryCommand(
  argv: readonly string[],
  io: HistoryCommandIo,
  load: () => Promise<unknown> = () => import(TRACING_PACKAGE),
): Promise<number> {
  let module: TracingCliModule;
  try {
    module = (await load()) as TracingCliModule;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      String(error).includes(TRACING_PACKAGE)
    ) {
      io.stderr(
        `elasticjob: 'history' needs the ${TRACING_PACKAGE} package (event tracing): npm install ${TRACING_PACKAGE}\n`,
      );
      return ExitCode.USAGE;
    }
    throw error;
  }
  return module.runHistoryCli(argv, io);
}
