/**
 * The pages in a real headless Chromium against a console on a real etcd server with live job
 * instances: sign-in, a job appearing live, disabling an item, editing the configuration through
 * its diff, searching the history (a real SQLite history store), and a viewer who cannot operate. Needs the built pages (`npm run build`).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CoordinatorRegistryCenter } from '@elasticjob-ts/core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningConsole } from '../src/index.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import {
  type LiveInstance,
  PASSWORDS,
  type RegistryBackend,
  seedHistory,
  startBackend,
  startInstance,
  startTestConsole,
  testUsers,
} from './support/console-fixture.js';

const WEB_ROOT = fileURLToPath(new URL('../dist/web', import.meta.url));
/** Bound of every wait for the page: a registry change must reach it well within this. */
const UI_TIMEOUT_MS = 15_000;

describe('console pages in headless Chromium (etcd)', { timeout: 90_000 }, () => {
  const namespace = `console-browser-${process.pid}`;
  let backend: RegistryBackend;
  let observer: CoordinatorRegistryCenter;
  let consoleServer: RunningConsole;
  let browser: TestBrowser;
  const instances: LiveInstance[] = [];
  let historyDir: string | undefined;

  async function signIn(page: Page, user: keyof typeof PASSWORDS): Promise<void> {
    await page.context().clearCookies();
    await page.goto(consoleServer.url);
    await page.getByLabel('User').fill(user);
    await page.getByLabel('Password').fill(PASSWORDS[user]);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor({ timeout: UI_TIMEOUT_MS });
  }

  beforeAll(async () => {
    if (!existsSync(join(WEB_ROOT, 'index.html'))) {
      throw new Error(
        `${WEB_ROOT} is missing: build first (npx turbo run build --filter=@elasticjob-ts/console)`,
      );
    }
    backend = await startBackend('etcd');
    observer = await backend.createClient(namespace);
    instances.push(await startInstance(backend, namespace, 'orders', 'a', '10.0.0.1'));
    const { users } = await testUsers();
    historyDir = await mkdtemp(join(tmpdir(), 'ejc-browser-history-'));
    consoleServer = await startTestConsole({
      registries: [{ client: observer, type: 'etcd' }],
      users,
      history: await seedHistory(historyDir),
    });
    browser = await launchBrowser();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await consoleServer?.close();
    for (const instance of instances) await instance.stop();
    await observer?.close();
    await backend?.stop();
    if (historyDir !== undefined) await rm(historyDir, { recursive: true, force: true });
  }, 60_000);

  it('signs in and shows a job appear live when its first instance starts', async () => {
    const page = await browser.context.newPage();
    await signIn(page, 'admin');
    await page.locator('tr[data-job="orders"]').waitFor({ timeout: UI_TIMEOUT_MS });
    await expect.poll(() => page.locator('.live').textContent(), { timeout: UI_TIMEOUT_MS }).toBe('live');
    expect(await page.locator('tr[data-job="reports"]').count()).toBe(0);
    instances.push(await startInstance(backend, namespace, 'reports', 'r1', '10.0.0.2', 2));
    const row = page.locator('tr[data-job="reports"]');
    await row.waitFor({ timeout: UI_TIMEOUT_MS });
    await expect.poll(() => row.locator('.badge').textContent(), { timeout: UI_TIMEOUT_MS }).toBe('OK');
    await page.getByLabel('Search').fill('repo');
    await expect.poll(() => page.locator('tbody tr').count()).toBe(1);
    await page.close();
  });

  it('disables an item and sees it marked; the configuration is edited through its diff', async () => {
    const page = await browser.context.newPage();
    await signIn(page, 'admin');
    await page.getByRole('link', { name: 'orders' }).click();
    await page.getByRole('heading', { name: /orders/ }).waitFor();
    await page.getByRole('button', { name: 'Disable item 1' }).click();
    const item = page.locator('li[data-item="1"]');
    await expect
      .poll(() => item.locator('.badge').textContent(), { timeout: UI_TIMEOUT_MS })
      .toBe('DISABLED');
    expect(await observer.isExisted('/orders/sharding/1/disabled')).toBe(true);

    await page.getByRole('button', { name: 'Edit configuration' }).click();
    await page.getByLabel('Sharding total count').fill('0');
    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.getByRole('button', { name: 'Save' }).click();
    // The server's validation names the field; the form shows it next to the input.
    await expect
      .poll(() => page.locator('#cfg-shardingTotalCount-error').textContent())
      .toContain('shardingTotalCount');
    await page.getByLabel('Sharding total count').fill('4');
    await page.getByLabel('Description').fill('edited in the browser');
    await page.getByRole('button', { name: 'Review changes' }).click();
    const diff = page.getByLabel('Changes');
    await expect.poll(() => diff.textContent()).toContain('+ description: "edited in the browser"');
    await expect.poll(() => diff.textContent()).toContain('- description: "orders job"');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Configuration saved').waitFor({ timeout: UI_TIMEOUT_MS });
    await expect
      .poll(() => page.getByLabel('Stored configuration (YAML)').textContent(), { timeout: UI_TIMEOUT_MS })
      .toContain('description: edited in the browser');
    expect(await observer.getDirectly('/orders/config')).toContain('description: edited in the browser');
    await page.close();
  });

  it('refuses to save an edit over a change made after the editor opened, even once the page has seen it', async () => {
    const page = await browser.context.newPage();
    await signIn(page, 'admin');
    await page.getByRole('link', { name: 'orders' }).click();
    await page.getByRole('heading', { name: /orders/ }).waitFor();
    await page.getByRole('button', { name: 'Edit configuration' }).click();
    await page.getByLabel('Description').fill('my stale edit');

    const stored = (await observer.getDirectly('/orders/config')) as string;
    expect(stored).toMatch(/^jobParameter: .*$/m);
    await observer.update(
      '/orders/config',
      stored.replace(/^jobParameter: .*$/m, 'jobParameter: concurrent'),
    );
    // The live feed brings the new version to the page; the form still holds the old values.
    await page
      .getByText('Someone changed this configuration after you opened it: saving will be refused')
      .waitFor({
        timeout: UI_TIMEOUT_MS,
      });
    await page.getByRole('button', { name: 'Review changes' }).click();
    await page.getByRole('button', { name: 'Save' }).click();

    await page.getByText('Nothing was saved: cancel and edit again.').waitFor({ timeout: UI_TIMEOUT_MS });
    const after = (await observer.getDirectly('/orders/config')) as string;
    expect(after).toMatch(/^jobParameter: concurrent$/m);
    expect(after).not.toContain('my stale edit');
    await page.close();
  });

  it('asks before a destructive operation; Escape cancels it', async () => {
    const page = await browser.context.newPage();
    await signIn(page, 'operator');
    await page.goto(`${consoleServer.url}#/job/reports`);
    await page.getByRole('button', { name: 'Shut down…' }).first().click();
    await page.getByRole('dialog').waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0);
    expect(await observer.getChildrenKeys('/reports/instances')).toEqual(['r1']);
    await page.close();
  });

  it("searches the history, charts it, and opens a task's status trace", async () => {
    const page = await browser.context.newPage();
    await signIn(page, 'viewer');
    await page.getByRole('link', { name: 'History' }).click();
    // Wait for the History page itself: until the route renders, 'Job' also matches the Jobs page.
    const filters = page.getByRole('form', { name: 'Search executions' });
    await filters.waitFor({ timeout: UI_TIMEOUT_MS });
    await filters.getByLabel('Job', { exact: true }).fill('orders');
    await filters.getByLabel('Result').selectOption('false');
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.locator('table.executions tbody tr');
    await expect.poll(() => rows.count(), { timeout: UI_TIMEOUT_MS }).toBe(2);
    expect(await rows.first().textContent()).toContain('payment gateway timed out');
    await page
      .getByRole('img', { name: /Runs over time: 12 runs, 2 failures/ })
      .waitFor({ timeout: UI_TIMEOUT_MS });
    // The charts follow the time filters: up to 3 h 15 min ago, runs 6 to 11 of the seed (one failed).
    const to = new Date(Date.now() - 195 * 60_000);
    const two = (value: number) => String(value).padStart(2, '0');
    await filters
      .getByLabel('To', { exact: true })
      .fill(
        `${to.getFullYear()}-${two(to.getMonth() + 1)}-${two(to.getDate())}T${two(to.getHours())}:${two(to.getMinutes())}`,
      );
    await page.getByRole('button', { name: 'Search' }).click();
    await page
      .getByRole('img', { name: /Runs over time: 6 runs, 1 failures/ })
      .waitFor({ timeout: UI_TIMEOUT_MS });
    await expect.poll(() => rows.count(), { timeout: UI_TIMEOUT_MS }).toBe(1);
    await filters.getByLabel('To', { exact: true }).fill('');
    await filters.getByLabel('Result').selectOption('');
    await page.getByRole('button', { name: 'Search' }).click();
    await expect.poll(() => rows.count(), { timeout: UI_TIMEOUT_MS }).toBe(12);
    await rows.first().getByRole('link', { name: 'status trace' }).click();
    await page.getByRole('heading', { name: 'Status trace' }).waitFor();
    await expect
      .poll(() => page.locator('.trace li .badge').allTextContents(), { timeout: UI_TIMEOUT_MS })
      .toEqual(['TASK_STAGING', 'TASK_RUNNING', 'TASK_FINISHED']);
    await page.close();
  });

  it('a viewer sees no operation, and the API refuses one sent anyway', async () => {
    const viewer = await launchBrowser({ width: 390, height: 844 });
    try {
      const page = await viewer.context.newPage();
      await signIn(page, 'viewer');
      await page.goto(`${consoleServer.url}#/job/orders`);
      await page.getByRole('heading', { name: 'Sharding' }).waitFor();
      expect(await page.getByRole('button', { name: /Trigger|Disable|Edit configuration/ }).count()).toBe(0);
      const status = await page.evaluate(async () => {
        const session = (await (await fetch('api/v1/session')).json()) as { csrfToken: string };
        const response = await fetch('api/v1/jobs/orders/trigger', {
          method: 'POST',
          headers: { 'X-CSRF-Token': session.csrfToken },
        });
        return response.status;
      });
      expect(status).toBe(403);
    } finally {
      await viewer.close();
    }
  });
});
