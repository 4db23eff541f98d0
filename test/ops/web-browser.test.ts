/**
 * The web view end to end in headless Chromium (one the machine has, else the one the
 * @sparticuz/chromium dev dependency carries; test/support/browser.ts): tasks appear and finish
 * live, a failed task is retried with a click and succeeds on its second run, a bad `#token=`
 * fragment or records the engine could only partly read leave the page working, and a screenshot
 * is kept under test-artifacts/.
 */
import 'reflect-metadata';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { QTasks } from 'qtasks';
import { launchChromium, npmChromium } from '../support/browser';
import { gate, OpsTasks, runs } from './fixtures/ops-tasks';
import { FLAGGED, GARBLED, PoisonedStorage } from './fixtures/poisoned-storage';
import { uniqueQueue } from './helpers';

const TOKEN = 'browser-test-token';
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts');

/** Collects what stops the page's script: uncaught errors. */
function scriptErrors(page: Page): Error[] {
  const errors: Error[] = [];
  page.on('pageerror', (err) => errors.push(err));
  return errors;
}

describe('web view in a browser', () => {
  let app: QTasks;
  let browser: Browser | undefined;

  beforeAll(async () => {
    browser = await launchChromium();
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
      // the record's log lines and attempt history (the retry from the view reset them: one run)
      await page.locator('#detail-logs', { hasText: 'ops.fail run 2' }).waitFor({ timeout: 10_000 });
      expect(await page.locator('#detail-attempts li[data-status="success"]').count()).toBe(1);

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

  it('draws the last hour as charts, lists schedules, and pauses, resizes and resumes a worker with clicks', async () => {
    app.timer.every(60_000, 'ops.echo', ['tick']);
    await app.start();
    const { url } = await app.web.listen({ port: 0, token: TOKEN, refreshMs: 200 });
    const done = await Promise.all([1, 2, 3].map((i) => app.addTask('ops.echo', [i])));
    const failed = await app.addTask('ops.fail', []);
    await Promise.all(done.map((h) => h.result({ timeout: 5_000 })));
    await failed.result({ timeout: 5_000 }).catch(() => undefined);
    // the worker adds its figures to the engine about once a second
    for (let i = 0; i < 400 && (await app.manager.stats()).reduce((n, b) => n + b.success + b.error, 0) < 4; i++) await new Promise((r) => setTimeout(r, 50));
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1100 } });
    const errors = scriptErrors(page);
    try {
      await page.goto(`${url}#token=${TOKEN}`);
      await page.locator('#mode', { hasText: 'actions enabled' }).waitFor({ timeout: 20_000 });
      await page.locator('#chart-ends rect[data-bar="success"]').first().waitFor({ timeout: 20_000 });
      await page.locator('#chart-ends rect[data-bar="error"]').first().waitFor({ timeout: 20_000 });
      await page.locator('#chart-times polyline[data-series="runMsP50"]').waitFor({ state: 'attached', timeout: 20_000 });
      expect(Number(await page.locator('#chart-ends').getAttribute('data-points'))).toBeGreaterThanOrEqual(1);
      await page.locator('#schedules tr[data-schedule="ops.echo"]').waitFor({ timeout: 20_000 });

      const [w] = await app.manager.workers();
      const wrow = page.locator(`tr[data-worker-id="${w.id}"]`);
      await wrow.locator('button[data-action="worker-pause"]').click();
      await page.locator(`tr[data-worker-id="${w.id}"][data-paused="yes"]`).waitFor({ timeout: 20_000 });
      expect((await app.manager.workers())[0].paused).toBe(true);
      await wrow.locator('input[data-input="concurrency"]').fill('7');
      await wrow.locator('button[data-action="worker-concurrency"]').click();
      await page.locator(`tr[data-worker-id="${w.id}"][data-concurrency="7"]`).waitFor({ timeout: 20_000 });
      await page.locator(`tr[data-worker-id="${w.id}"] button[data-action="worker-resume"]`).click();
      await page.locator(`tr[data-worker-id="${w.id}"][data-paused="no"]`).waitFor({ timeout: 20_000 });
      expect((await app.manager.workers())[0]).toMatchObject({ concurrency: 7, paused: false });
      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, 'web-view-charts.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(10_000);
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 120_000);

  it('survives a token fragment that is not valid percent-encoding', async () => {
    const { url } = await app.web.listen({ port: 0, token: TOKEN, refreshMs: 200 });
    const queued = await app.addTask('ops.echo', ['queued']);
    const page = await browser!.newPage();
    const errors = scriptErrors(page);
    try {
      await page.goto(`${url}#token=%E0%A4%A`);
      await page.locator('#live', { hasText: 'live' }).waitFor({ timeout: 10_000 });
      await page.locator('#queue-name', { hasText: app.name }).waitFor({ timeout: 10_000 });
      await page.locator('#mode', { hasText: 'read-only' }).waitFor({ timeout: 10_000 });
      await page.locator(`tr.task[data-task-id="${queued.id}"]`).waitFor({ timeout: 10_000 });
      await page.locator('#toast', { hasText: 'token' }).waitFor({ timeout: 10_000 });
      // the typed token still works after the bad one
      await page.fill('#token', TOKEN);
      await page.press('#token', 'Enter');
      await page.locator('#mode', { hasText: 'actions enabled' }).waitFor({ timeout: 10_000 });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('shows the list and the details when records could only partly be read', async () => {
    await app.close();
    app = new QTasks({ name: uniqueQueue('browser'), discover: false, storage: new PoisonedStorage(), config: { logLevel: 'silent', shutdownTimeoutMs: 200 } });
    app.register(OpsTasks);
    await app.start();
    const { url } = await app.web.listen({ port: 0, token: TOKEN, refreshMs: 200 });
    const good = await app.addTask('ops.echo', ['fine']);
    await good.result({ timeout: 5_000 });
    const page = await browser!.newPage();
    const errors = scriptErrors(page);
    try {
      await page.goto(url);
      await page.locator(`tr.task[data-task-id="${good.id}"][data-status="success"]`).waitFor({ timeout: 10_000 });
      await page.locator(`tr.task[data-task-id="${FLAGGED.id}"]`).waitFor({ timeout: 10_000 });
      await page.locator(`tr.task[data-task-id="${GARBLED.id}"]`).waitFor({ timeout: 10_000 });
      await page.locator(`tr.task[data-task-id="${FLAGGED.id}"]`).click();
      await page.locator('#detail-fields[data-task-id="poison-flagged"]').waitFor({ timeout: 10_000 });
      expect(await page.locator('#detail').textContent()).toContain('error QTASKS_ERR_BAD_RECORD');
      expect(await page.locator('#detail-problems').textContent()).toContain('items: QTASKS_ERR_BAD_RECORD');
      await page.locator(`tr.task[data-task-id="${GARBLED.id}"]`).click();
      await page.locator('#detail-fields[data-task-id="poison-garbled"]').waitFor({ timeout: 10_000 });
      expect(await page.locator('#detail-error').textContent()).toContain('boom');
      await page.locator(`tr.task[data-task-id="${good.id}"]`).click();
      await page.locator('#detail-result', { hasText: 'fine' }).waitFor({ timeout: 10_000 });
      const later = await app.addTask('ops.echo', ['later']);
      await page.locator(`tr.task[data-task-id="${later.id}"][data-status="success"]`).waitFor({ timeout: 10_000 });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('runs in the Chromium that comes through npm, for machines that have no browser', async () => {
    const bundled = await npmChromium();
    expect(bundled).toBeDefined();
    const own = await launchChromium(bundled);
    try {
      const { url } = await app.web.listen({ port: 0, token: TOKEN, refreshMs: 200 });
      const page = await own.newPage();
      await page.goto(`${url}#token=${TOKEN}`);
      await page.locator('#mode', { hasText: 'actions enabled' }).waitFor({ timeout: 20_000 });
      await page.locator('#live', { hasText: 'live' }).waitFor({ timeout: 20_000 });
    } finally {
      await own.close();
    }
  }, 90_000);

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
