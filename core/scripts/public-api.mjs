// Lists every export of @elasticjob-ts/core's main entry (values and types), one per line, sorted.
// `node core/scripts/public-api.mjs > core/public-api.txt` refreshes the checked-in report;
// core/test/public-api.test.ts fails when the surface changes without it.
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** @returns the sorted export names of `core/src/index.ts`. */
export function listPublicApi() {
  const file = fileURLToPath(new URL('../src/index.ts', import.meta.url));
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  if (moduleSymbol === undefined) throw new Error(`cannot read the exports of ${file}`);
  return checker
    .getExportsOfModule(moduleSymbol)
    .map((symbol) => symbol.name)
    .sort();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${listPublicApi().join('\n')}\n`);
}
