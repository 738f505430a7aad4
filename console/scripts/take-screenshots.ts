/**
 * Takes the README's screenshots of the console (docs/console/*.png) with headless Chromium:
 * job instances on an in-process memory registry, a console with users and a SQLite execution
 * history of three days (see `demo-history.ts`), and the main pages on a laptop and a phone
 * viewport. Run after `npm run build`:
 * `node console/dist/scripts/take-screenshots.js`.
 *
 * @module
 */
/// <reference lib="dom" />
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CoordinatorRegistryCenter,
  ScheduleJobBootstrap,
  type ShardingContext,
  silentLogger,
} from '@elasticjob-ts/core';
import { MemoryRegistryCenter, MemoryRegistryServer } from '@elasticjob-ts/registry-memory';
import { openHistoryStore } from '@elasticjob-ts/tracing';
import { chromium, type Page } from 'playwright-core';
import { hashPassword, startConsole } from '../src/index.js';
import { demoHistoryEvents } from './demo-history.js';

const OUT = fileURLToPath(new URL('../../../docs/console/', import.meta.url));
const NEVER = '0 0 0 1 1 ? 2099';
const server = new MemoryRegistryServer();
const clients: CoordinatorRegistryCenter[] = [];
const bootstraps: ScheduleJobBootstrap[] = [];

async function client(): Promise<CoordinatorRegistryCenter> {
  const registry = new MemoryRegistryCenter({ namespace: 'shop', server });
  await registry.start();
  clients.push(registry);
  return registry;
}

async function job(name: string, count: number, ips: string[], description: string, cron = NEVER) {
  for (const [index, ip] of ips.entries()) {
    const bootstrap = new ScheduleJobBootstrap(
      await client(),
      { execute: (_context: ShardingContext) => {} },
      { jobName: name, cron, shardingTotalCount: count, description, failover: true, monitorExecution: true },
      { instanceId: `${ip}@-@${4100 + index}`, serverIp: ip, logger: silentLogger },
    );
    await bootstrap.schedule();
    bootstraps.push(bootstrap);
  }
}

const observer = await client();
await job(
  'orders-sync',
  8,
  ['10.0.0.11', '10.0.0.12', '10.0.0.13'],
  'Sync orders from the shop database',
  '0 0/5 * * * ?',
);
await job('invoice-mailer', 4, ['10.0.0.11', '10.0.0.12'], 'Mail invoices of the day', '0 30 6 * * ?');
await job(
  'stock-levels',
  6,
  ['10.0.0.12', '10.0.0.13'],
  'Recompute stock levels per warehouse',
  '0 0 * * * ?',
);
await job('search-index', 2, ['10.0.0.13'], 'Rebuild the search index', '0 15 2 * * ?');
await observer.persist(
  '/report-export/config',
  'jobName: report-export\ncron: 0 0 1 * * ?\nshardingTotalCount: 3\ndescription: Export monthly reports\n',
);
await observer.persist('/legacy-import/config', 'shardingTotalCount: [\n');
await observer.persist('/search-index/servers/10.0.0.13', 'DISABLED');
await observer.persist('/orders-sync/sharding/5/disabled', '');

const users = {
  readOnly: false,
  tokens: [],
  users: [
    {
      username: 'alice',
      role: 'admin' as const,
      passwordHash: await hashPassword('demo-password', { N: 1024, r: 8, p: 1 }),
    },
  ],
};
const historyDir = await mkdtemp(join(tmpdir(), 'ejc-screenshots-'));
const historyUrl = `sqlite:${join(historyDir, 'history.db')}`;
const { events, incidents } = demoHistoryEvents(Date.now());
const store = await openHistoryStore(historyUrl);
for (let start = 0; start < events.length; start += 1000)
  await store.writeEvents(events.slice(start, start + 1000));
await store.close();

/** A `datetime-local` input value (the browser's local time, as this process's). */
function localInput(ms: number): string {
  const at = new Date(ms);
  const two = (value: number) => String(value).padStart(2, '0');
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}T${two(at.getHours())}:${two(at.getMinutes())}`;
}

const running = await startConsole({
  registries: [{ client: observer, type: 'memory', label: 'shop (production)' }],
  historyUrl,
  users,
  port: 0,
  logger: silentLogger,
});
await mkdir(OUT, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
  ],
});

async function signIn(page: Page, shot?: string): Promise<void> {
  await page.goto(running.url);
  await page.getByLabel('User').fill('alice');
  await page.getByLabel('Password').fill('demo-password');
  if (shot) await page.screenshot({ path: `${OUT}${shot}` });
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('tr[data-job="orders-sync"]').waitFor();
  await page.waitForFunction(
    () => document.querySelector('tr[data-job="search-index"] .badge')?.textContent === 'DISABLED',
  );
}

try {
  const laptop = await browser.newPage({ viewport: { width: 1280, height: 760 } });
  await signIn(laptop, 'login.png');
  await laptop.screenshot({ path: `${OUT}jobs.png` });
  await laptop.goto(`${running.url}#/job/orders-sync`);
  await laptop.locator('li[data-item="5"] .badge').getByText('DISABLED').waitFor();
  await laptop.screenshot({ path: `${OUT}job-detail.png`, fullPage: true });
  await laptop.getByRole('button', { name: 'Edit configuration' }).click();
  await laptop.getByLabel('Cron').fill('0 0/2 * * * ?');
  await laptop.getByLabel('Sharding total count').fill('10');
  await laptop.getByRole('button', { name: 'Review changes' }).click();
  await laptop.getByLabel('Changes').waitFor();
  await laptop.screenshot({ path: `${OUT}config-diff.png` });
  await laptop.goto(`${running.url}#/servers`);
  await laptop.getByRole('heading', { name: 'Instances' }).waitFor();
  await laptop.locator('tbody tr').nth(3).waitFor();
  await laptop.screenshot({ path: `${OUT}servers.png` });

  await laptop.setViewportSize({ width: 1280, height: 900 });
  await laptop.goto(`${running.url}#/history`);
  await laptop.getByLabel('Job').fill('orders-sync');
  await laptop.getByLabel('Result').selectOption('false');
  await laptop.getByLabel('From', { exact: true }).fill(localInput(Date.now() - 3 * 24 * 3_600_000));
  await laptop.getByRole('button', { name: 'Search' }).click();
  await laptop.getByRole('img', { name: /Runs over time/ }).waitFor();
  await laptop.locator('table.executions tbody tr').nth(9).waitFor();
  await laptop.screenshot({ path: `${OUT}history.png` });

  // Every job, two minutes around the crash of 10.0.0.13: its items never completed, and ran again elsewhere as FAILOVER.
  await laptop.setViewportSize({ width: 1280, height: 760 });
  await laptop.getByLabel('Job').fill('');
  await laptop.getByLabel('Result').selectOption('');
  await laptop.getByLabel('From', { exact: true }).fill(localInput(incidents.crashMs - 60_000));
  await laptop.getByLabel('To', { exact: true }).fill(localInput(incidents.crashMs + 60_000));
  await laptop.getByRole('button', { name: 'Search' }).click();
  await laptop.locator('table.executions tbody tr', { hasText: 'FAILOVER' }).first().waitFor();
  await laptop.screenshot({ path: `${OUT}history-failover.png` });

  await laptop.setViewportSize({ width: 1280, height: 300 });
  await laptop.goto(`${running.url}#/history/task/${encodeURIComponent(incidents.failoverTaskId)}`);
  await laptop.locator('.trace li').nth(2).waitFor();
  await laptop.screenshot({ path: `${OUT}history-trace.png` });

  const phone = await browser.newPage({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
  });
  await signIn(phone);
  await phone.screenshot({ path: `${OUT}phone-jobs.png` });
  await phone.goto(`${running.url}#/job/orders-sync`);
  await phone.getByRole('heading', { name: 'Sharding' }).waitFor();
  await phone.screenshot({ path: `${OUT}phone-job.png` });
  console.log(`screenshots in ${OUT}`);
} finally {
  await browser.close();
  await running.close();
  for (const bootstrap of bootstraps) await bootstrap.shutdown();
  for (const registry of clients) await registry.close();
  await rm(historyDir, { recursive: true, force: true });
}
