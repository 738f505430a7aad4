/**
 * `elasticjob history`: delegated to the optional `@elasticjob-ts/tracing` package, imported when
 * the command runs so that core neither depends on it nor loads its database drivers otherwise.
 * Without it installed, the command says how to install it (exit code 2).
 *
 * @module
 */
import {
  importTracingPackage,
  loadTracingPackage,
  TRACING_INSTALL,
  TRACING_PACKAGE,
} from '../bootstrap-file/tracing-package.js';
import { ExitCode } from './errors.js';

export { TRACING_PACKAGE } from '../bootstrap-file/tracing-package.js';

/** Output and environment handed to the tracing package's `runHistoryCli`. */
export interface HistoryCommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
}

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
  load: () => Promise<unknown> = loadTracingPackage,
): Promise<number> {
  const module = await importTracingPackage(load);
  if (module === undefined) {
    io.stderr(
      `elasticjob: 'history' needs the ${TRACING_PACKAGE} package (event tracing): ${TRACING_INSTALL}\n`,
    );
    return ExitCode.USAGE;
  }
  return module.runHistoryCli(argv, io);
}
