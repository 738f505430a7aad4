/**
 * `@elasticjob-ts/core/adapter` is the registry contract alone: registry adapters import it, and a
 * process that only talks to the registry (every `elasticjob` command but `run`) loads it instead
 * of the kernel. These tests walk its runtime import graph in the sources (type-only imports are
 * erased at build, so they do not count) and compare its names with the main entry's.
 */
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';
import * as adapterEntry from '../src/adapter/index.js';
import * as mainEntry from '../src/index.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));

/** The module specifiers a file loads at run time (type-only imports and exports left out). */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
  const specifiers: string[] = [];
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (clause?.isTypeOnly) continue;
      const bindings = clause?.namedBindings;
      const onlyTypes =
        clause !== undefined &&
        clause.name === undefined &&
        bindings !== undefined &&
        ts.isNamedImports(bindings) &&
        bindings.elements.every((element) => element.isTypeOnly);
      if (!onlyTypes) specifiers.push((statement.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(statement) && statement.moduleSpecifier !== undefined) {
      const clause = statement.exportClause;
      const onlyTypes =
        statement.isTypeOnly ||
        (clause !== undefined &&
          ts.isNamedExports(clause) &&
          clause.elements.every((element) => element.isTypeOnly));
      if (!onlyTypes) specifiers.push((statement.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return specifiers;
}

/** Every source file and package the entry loads at run time, transitively. */
function runtimeGraph(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of runtimeImports(file)) {
      if (specifier.startsWith('.')) {
        pending.push(resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
      } else if (!specifier.startsWith('node:')) {
        packages.add(specifier);
      }
    }
  }
  return { files: [...files].map((file) => relative(SRC, file)).sort(), packages: [...packages].sort() };
}

it('loads the registry contract, the clock and the logger, not the kernel, configuration or cron', () => {
  const { files, packages } = runtimeGraph(resolve(SRC, 'adapter/index.ts'));
  expect(packages).toEqual(['pino']);
  const folders = [...new Set(files.map((file) => file.split('/')[0]))].sort();
  expect(folders).toEqual(['adapter', 'executor', 'logging', 'registry', 'time']);
  expect(files.filter((file) => file.startsWith('executor/'))).toEqual([
    'executor/run-items-concurrently.ts',
  ]);
});

it('the main entry loads the kernel (what the adapter entry spares)', () => {
  const { files, packages } = runtimeGraph(resolve(SRC, 'index.ts'));
  expect(packages).toEqual(expect.arrayContaining(['croner', 'pino', 'yaml', 'zod']));
  expect(files).toContain('kernel/job-runner.ts');
});

it('exports every name from the same module instance as the main entry', () => {
  const main = new Map(Object.entries(mainEntry));
  const entries = Object.entries(adapterEntry);
  expect(entries.length).toBeGreaterThan(10);
  for (const [name, value] of entries) {
    expect(main.has(name), name).toBe(true);
    expect(main.get(name), name).toBe(value);
  }
});
