/**
 * The README's first command: the built demo (`dist/demo.js`, what `npm start` runs) in a process
 * of its own. It runs the job on three instances, moves the stopped instance's items to the others
 * and exits 0; a bad option is named with the usage and exit code 2.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const DEMO = fileURLToPath(new URL('../dist/demo.js', import.meta.url));
/** The demo's cron period, in ms (`0/2 * * * * ?`), and the fires it reports. */
const FIRE_PERIOD_MS = 2000;
const FIRES = 8;
/** Its fires, one period to align on the cron, and a margin for the start and the shutdown. */
const DEMO_BOUND_MS = (FIRES + 1) * FIRE_PERIOD_MS + 15_000;

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runDemo(args: readonly string[]): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DEMO, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The items of each instance in one fire line, e.g. `instance-B* [2:Guangzhou, 3:Shenzhen]`. */
function itemsByInstance(line: string): Map<string, number[]> {
  const byInstance = new Map<string, number[]>();
  for (const match of line.matchAll(/(instance-[ABC])[* ] \[([^\]]*)\]/g)) {
    const items = (match[2] ?? '')
      .split(', ')
      .filter((entry) => entry !== '')
      .map((entry) => Number(entry.split(':')[0]));
    byInstance.set(match[1] as string, items);
  }
  return byInstance;
}

describe('the demo (npm start)', () => {
  it(
    'runs every item once per fire, and after instance-A stops its items run on B and C',
    async () => {
      const { code, stdout, stderr } = await runDemo([]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      const fireLines = stdout.split('\n').filter((line) => /\bfire +\d+ /.test(line));
      expect(fireLines).toHaveLength(FIRES);
      // Every item ran once per fire: no fire missed and no item twice (a run reported a line late
      // under load still counts once).
      const runsPerItem = new Map<number, number>();
      for (const line of fireLines)
        for (const item of [...itemsByInstance(line).values()].flat())
          runsPerItem.set(item, (runsPerItem.get(item) ?? 0) + 1);
      expect([...runsPerItem].sort(([a], [b]) => a - b)).toEqual(
        [0, 1, 2, 3, 4, 5].map((item) => [item, FIRES]),
      );
      const afterStop = stdout.split('>>> shutting down instance-A')[1] ?? '';
      const linesAfterStop = afterStop.split('\n').filter((line) => /\bfire +\d+ /.test(line));
      expect(linesAfterStop.length).toBeGreaterThan(0);
      const last = itemsByInstance(linesAfterStop.at(-1) as string);
      expect(last.get('instance-A')).toEqual([]);
      expect([...last.values()].flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(stdout).toContain('Done: shutting down the remaining instances.');
    },
    DEMO_BOUND_MS,
  );

  it('names an unknown option with the usage and exits with 2; --help prints the usage', async () => {
    const bad = await runDemo(['--bogus']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--bogus'");
    expect(bad.stderr).toContain('usage: npm start');
    expect(bad.stdout).toBe('');
    const help = await runDemo(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: npm start [-- --observe]');
  });
});
