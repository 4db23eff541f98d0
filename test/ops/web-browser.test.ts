/**
 * The web view end to end in headless Chromium (Debian's, found on PATH; `.ci/install-chromium.sh`
 * installs it): tasks appear and finish live, a failed task is retried with a click and succeeds on
 * its second run, and a screenshot is kept under test-artifacts/.
 */
import 'reflect-metadata';
import { execSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium } from 'playwright-core';
import { QTasks } from 'qtasks';
import { gate, OpsTasks, runs } from './fixtures/ops-tasks';
import { uniqueQueue } from './helpers';

const TOKEN = 'browser-test-token';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');

function chromiumPath(): string {
  try {
    return execSync('command -v chromium', { encoding: 'utf8', shell: '/bin/sh' }).trim();
  } catch {
    throw new Error('Chromium is not installed: run .ci/install-chromium.sh (apt-get install -y chromium); the browser test needs it');
  }
}

describe('web view in a browser', () => {
  let app: QTasks;
  let browser: Browser | undefined;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  beforeEach(() => {
    gate.reset();
    runs.clear();
    app = new QTasks({ name: uniqueQueue('browser'), discover: false, concurrency: 4, config: { logLevel: 'silent', shutdownTimeoutMs: 200 } });
    app.register(OpsTasks);
  });

  afterEach(async () => {
    gate.open();
    await app.close();
  });

  it('shows tasks live, retries a failed one with a click, and keeps a screenshot', async () => {
    await app.start();
    const { url } = await app.web.listen({ port: 0, token: TOKEN, refreshMs: 200 });
    const page = await browser!.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      await page.goto(`${url}#token=${TOKEN}`);
      await page.locator('#mode', { hasText: 'actions enabled' }).waitFor({ timeout: 10_000 });
      await page.locator('#queue-name', { hasText: app.name }).waitFor();
      await page.locator('#live', { hasText: 'live' }).waitFor({ timeout: 10_000 });

      const ok = [];
      for (let i = 0; i < 3; i++) ok.push(await app.addTask('ops.echo', [`item ${i}`]));
      const flaky = await app.addTask('ops.fail', ['once']);
      const row = (id: string, status: string) => page.locator(`tr[data-task-id="${id}"][data-status="${status}"]`);
      for (const h of ok) await row(h.id, 'success').waitFor({ timeout: 10_000 });
      await row(flaky.id, 'error').waitFor({ timeout: 10_000 });
      await page.locator('[data-count="success"] .n', { hasText: '3' }).waitFor({ timeout: 10_000 });
      await page.locator('[data-count="error"] .n', { hasText: '1' }).waitFor({ timeout: 10_000 });

      await page.locator(`tr[data-task-id="${flaky.id}"] button[data-action="retry"]`).click();
      await row(flaky.id, 'success').waitFor({ timeout: 10_000 });
      expect(await app.manager.get(flaky.id)).toMatchObject({ id: flaky.id, status: 'success', attempt: 1, returning: 'ok on run 2' });
      expect(runs.get(flaky.id)).toBe(2);

      await page.locator(`tr[data-task-id="${flaky.id}"]`).click();
      await page.locator('#detail-result', { hasText: 'ok on run 2' }).waitFor({ timeout: 10_000 });
      expect(await page.locator('#detail-args').textContent()).toContain('once');

      const blocked = await app.addTask('ops.block', []);
      await row(blocked.id, 'process').waitFor({ timeout: 10_000 });
      await page.locator('[data-count="process"] .n', { hasText: '1' }).waitFor({ timeout: 10_000 });
      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, 'web-view.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
      gate.open();
      await row(blocked.id, 'success').waitFor({ timeout: 10_000 });
    } finally {
      await page.close();
    }
  }, 60_000);

  it('stays read-only without the token', async () => {
    const { url } = await app.web.listen({ port: 0, token: TOKEN });
    await app.addTask('ops.echo', ['queued']);
    const page = await browser!.newPage();
    try {
      await page.goto(url);
      await page.locator('#mode', { hasText: 'read-only' }).waitFor({ timeout: 10_000 });
      await page.locator('tr.task[data-status="new"]').waitFor({ timeout: 10_000 });
      expect(await page.locator('#pause').isDisabled()).toBe(true);
      expect(await page.locator('tr.task button[data-action="cancel"]').isDisabled()).toBe(true);
      expect(await app.manager.isPaused()).toBe(false);
    } finally {
      await page.close();
    }
  });
});
