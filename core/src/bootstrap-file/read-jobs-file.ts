/**
 * Reading a jobs file: YAML (or JSON, a YAML subset) to plain data, scalars of string fields kept as
 * written, and `${ENV_VAR}` references resolved.
 *
 * @module
 */
import { type Document, isAlias, isMap, isScalar, isSeq, type Node, parseDocument } from 'yaml';
import { firstYamlSyntaxProblem, formatYamlSyntaxProblem } from '../config/yaml-syntax-error.js';
import { formatIssuePath, type JobsFileIssue } from './jobs-file-error.js';

/** Job fields whose values are strings even when written unquoted as numbers or booleans. */
const STRING_JOB_FIELDS = new Set([
  'jobName',
  'cron',
  'timeZone',
  'shardingItemParameters',
  'jobParameter',
  'jobShardingStrategyType',
  'jobExecutorThreadPoolSizeProviderType',
  'jobErrorHandlerType',
  'description',
  'label',
  'handler',
  'type',
]);

/** Registry fields whose values are strings even when written unquoted as numbers or booleans. */
const STRING_REGISTRY_FIELDS = new Set([
  'namespace',
  'serverLists',
  'digest',
  'username',
  'password',
  'endpoints',
]);

/**
 * Whether the value at `path` is a string field, so that `jobParameter: 0777` stays `'0777'` and
 * `password: 123456` stays `'123456'` (as the registry YAML reader keeps string fields' text).
 */
function wantsString(path: readonly (string | number)[]): boolean {
  const [top, second, third, fourth] = path;
  if (top === 'instanceId' || top === 'serverIp') return path.length === 1;
  if (top === 'tracing') return path.length === 2 && second === 'url';
  if (top === 'monitoring') return path.length === 2 && (second === 'host' || second === 'bearerToken');
  if (top === 'registry') {
    return (
      (path.length === 2 && STRING_REGISTRY_FIELDS.has(String(second))) ||
      (path.length === 3 && second === 'endpoints')
    );
  }
  if (top === 'jobs' && path.length >= 3) {
    if (path.length === 3) return STRING_JOB_FIELDS.has(String(third));
    if (path.length === 4)
      return third === 'props' || (third === 'jobListenerTypes' && typeof fourth === 'number');
  }
  return false;
}

/**
 * Parses jobs-file text into plain data. Scalars of string fields (see above) keep their source
 * text; everything else follows YAML 1.2 (`yes`/`on` are strings, `0777` is a number). Duplicate
 * keys are errors.
 *
 * @param text - the file's contents.
 * @returns the data, or the issues found (malformed YAML: the first syntax error with its line,
 *   column and a caret under the text; non-scalar keys).
 * @internal
 */
export function parseJobsFileText(text: string): { data: unknown; issues: JobsFileIssue[] } {
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const problem = firstYamlSyntaxProblem(document.errors, text);
  // Only the first syntax error: the parser's later ones are mostly consequences of it.
  if (problem !== undefined)
    return { data: undefined, issues: [{ path: '', message: formatYamlSyntaxProblem(problem) }] };
  const issues: JobsFileIssue[] = [];
  const data = toPlain(document.contents, document, [], issues);
  return { data, issues };
}

function toPlain(
  node: unknown,
  document: Document,
  path: (string | number)[],
  issues: JobsFileIssue[],
): unknown {
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return toPlain(node.resolve(document), document, path, issues);
  if (isScalar(node)) {
    const value = node.value;
    if (
      wantsString(path) &&
      (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    ) {
      return node.source ?? String(value);
    }
    return value;
  }
  if (isSeq(node)) {
    return node.items.map((item, index) => toPlain(item, document, [...path, index], issues));
  }
  if (isMap(node)) {
    const result: Record<string, unknown> = {};
    for (const pair of node.items) {
      const keyNode = isAlias(pair.key) ? pair.key.resolve(document) : pair.key;
      if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
        issues.push({ path: formatIssuePath(path), message: 'map keys must be plain strings' });
        continue;
      }
      const key = String(keyNode.value);
      // defineProperty, so that a key `__proto__` is data, not a prototype change.
      Object.defineProperty(result, key, {
        value: toPlain(pair.value as Node | null, document, [...path, key], issues),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return result;
  }
  issues.push({ path: formatIssuePath(path), message: 'unsupported YAML node' });
  return undefined;
}

/**
 * Resolves environment references in every string value (not in keys), in place:
 *
 * - `${NAME}`: the variable's value; an issue naming the variable and the path when it is unset;
 * - `${NAME:-fallback}`: the variable's value, or `fallback` when it is unset or empty;
 * - `$${`: a literal `${`.
 *
 * `NAME` is letters, digits and `_`, not starting with a digit. A `${` that is none of these is an
 * issue. Substituted values are always strings (a reference cannot make a number).
 *
 * @param data - parsed jobs-file data.
 * @param env - the environment.
 * @returns the data with references replaced, and the issues found.
 * @internal
 */
export function substituteEnvironment(
  data: unknown,
  env: Readonly<Record<string, string | undefined>>,
): { data: unknown; issues: JobsFileIssue[] } {
  const issues: JobsFileIssue[] = [];
  const walk = (value: unknown, path: (string | number)[]): unknown => {
    if (typeof value === 'string') return substituteString(value, env, path, issues);
    if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index]));
    if (value !== null && typeof value === 'object') {
      for (const key of Object.keys(value)) {
        (value as Record<string, unknown>)[key] = walk((value as Record<string, unknown>)[key], [
          ...path,
          key,
        ]);
      }
    }
    return value;
  };
  return { data: walk(data, []), issues };
}

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{/g;

function substituteString(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  path: readonly (string | number)[],
  issues: JobsFileIssue[],
): string {
  if (!text.includes('${')) return text;
  return text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${';
    if (name === undefined) {
      issues.push({
        path: formatIssuePath(path),
        message: `malformed environment reference in ${JSON.stringify(text)}: expected \${NAME} or \${NAME:-default} (NAME of letters, digits, '_'), or $\${ for a literal '\${'`,
      });
      return match;
    }
    const value = env[name];
    if (fallback !== undefined) return value === undefined || value === '' ? fallback : value;
    if (value === undefined) {
      issues.push({
        path: formatIssuePath(path),
        message: `environment variable '${name}' is not set (referenced as \${${name}}); set it or write \${${name}:-default}`,
      });
      return match;
    }
    return value;
  });
}
