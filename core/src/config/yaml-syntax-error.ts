/**
 * One readable message for malformed YAML: the first parser error with its line, column and the
 * offending line with a caret under the position. The `yaml` parser reports follow-up errors that
 * the first one causes (an unclosed bracket yields a dozen); only the first is meaningful.
 *
 * @module
 * @internal
 */
import type { YAMLError } from 'yaml';

/** The first syntax error of a YAML text, positioned. @internal */
export interface YamlSyntaxProblem {
  /** 1-based line of the error. */
  readonly line: number;
  /** 1-based column of the error. */
  readonly column: number;
  /** The parser's first sentence, without its own position suffix and code frame. */
  readonly reason: string;
  /** The offending line and a caret line under the column, each prefixed by the line number gutter. */
  readonly excerpt: string;
}

/**
 * Positions the first of a document's errors.
 *
 * @param errors - `document.errors` of a `parseDocument` call (at least one).
 * @param text - the parsed text.
 * @returns the first problem, or `undefined` when `errors` is empty.
 * @internal
 */
export function firstYamlSyntaxProblem(
  errors: readonly YAMLError[],
  text: string,
): YamlSyntaxProblem | undefined {
  const error = errors[0];
  if (error === undefined) return undefined;
  const lines = text.split(/\r?\n/);
  const position = error.linePos?.[0];
  let line = Math.min(Math.max(position?.line ?? 1, 1), Math.max(lines.length, 1));
  let column = Math.max(position?.col ?? 1, 1);
  // Errors found at the end of the text (an unclosed bracket or quote) point after the content:
  // show the end of the last line that has any.
  if ((lines[line - 1] ?? '').trim() === '' && column === 1) {
    let previous = line - 1;
    while (previous > 0 && (lines[previous - 1] ?? '').trim() === '') previous--;
    if (previous > 0) {
      line = previous;
      column = (lines[previous - 1] ?? '').length + 1;
    }
  }
  const source = lines[line - 1] ?? '';
  const gutter = `${line} | `;
  // Keep tabs in the caret line so that the caret lines up with the text above it.
  const pad = source.slice(0, column - 1).replace(/[^\t]/g, ' ');
  const excerpt = `  ${gutter}${source}\n  ${' '.repeat(gutter.length - 2)}| ${pad}^`;
  const reason = (error.message.split('\n', 1)[0] ?? '')
    .replace(/ at line \d+, column \d+:?$/, '')
    .replace(/:$/, '');
  return { line, column, reason, excerpt };
}

/**
 * `malformed YAML at line L, column C: reason`, then the excerpt on the following lines.
 * @internal
 */
export function formatYamlSyntaxProblem(problem: YamlSyntaxProblem): string {
  return `malformed YAML at line ${problem.line}, column ${problem.column}: ${problem.reason}\n${problem.excerpt}`;
}
