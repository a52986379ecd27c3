// Shared steps of the browser flows (flow.spec.mjs, incremental.spec.mjs): the environment,
// Chromium, screenshots, and the console steps both flows take (connections, wizard steps,
// precheck, export and import). Every step fails with words a person can act on.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (k, d) => (process.env[k] !== undefined ? process.env[k] : d);

/** The environment of a flow (see README.md). */
export const cfg = {
  BASE: env('TRIBUTARY_URL', ''),
  MYSQL_HOST: env('MYSQL_HOST', '127.0.0.1'),
  MYSQL_PORT: env('MYSQL_PORT', '3306'),
  MYSQL_USER: env('MYSQL_USER', 'root'),
  MYSQL_PASSWORD: env('MYSQL_PASSWORD', ''),
  KAFKA_BROKERS: env('KAFKA_BROKERS', '127.0.0.1:9092'),
  TOPIC: env('TOPIC', 'tributary_e2e'),
  DB: env('DB', ''),
  SHOTS: env('SCREENSHOT_DIR', ''),
  CHROMIUM: env('CHROMIUM', '/usr/bin/chromium'),
};

/**
 * The names a flow gives its connections and task: MYSQL_PROFILE, KAFKA_PROFILE and TASK_NAME
 * when set (saved connections of those names are reused), else unique ones.
 */
export function names(prefix) {
  const stamp = Date.now().toString(36);
  return {
    mysqlName: env('MYSQL_PROFILE', `${prefix}-mysql-${stamp}`),
    kafkaName: env('KAFKA_PROFILE', `${prefix}-kafka-${stamp}`),
    taskName: env('TASK_NAME', `${prefix}-task-${stamp}`),
  };
}

/** The page under test (set by run). */
export const ctx = { page: null, shotNo: 0, t0: Date.now() };

export function log(...a) {
  console.log(`[${((Date.now() - ctx.t0) / 1000).toFixed(1)}s]`, ...a);
}

/** Writes a numbered full-page screenshot to SCREENSHOT_DIR (when set). */
export async function shot(name) {
  if (!cfg.SHOTS || !ctx.page) return;
  try {
    fs.mkdirSync(cfg.SHOTS, { recursive: true });
    const file = path.join(cfg.SHOTS, `${String(++ctx.shotNo).padStart(2, '0')}-${name}.png`);
    await ctx.page.screenshot({ path: file, fullPage: true });
  } catch (e) {
    log('screenshot failed:', e.message);
  }
}

export class Failure extends Error {}
export function fail(msg) {
  throw new Failure(msg);
}

export const tid = (id) => ctx.page.getByTestId(id);
const oneLine = (s) => s.replace(/\s+/g, ' ').trim();

/** Picks an option of the antd Select inside the element with the test id, by typing and clicking. */
export async function pickSelect(testId, text) {
  const page = ctx.page;
  const wrap = tid(testId);
  await wrap.locator('.ant-select-selector').click();
  await page.keyboard.type(text);
  const opt = page.locator('.ant-select-dropdown:visible .ant-select-item-option', { hasText: text }).first();
  await opt.waitFor({ state: 'visible', timeout: 10000 });
  await opt.click();
  await page.waitForFunction(
    ([sel, v]) => document.querySelector(sel)?.getAttribute('data-value') === v,
    [`[data-testid="${testId}"]`, text],
    { timeout: 5000 },
  );
}

/** Waits for a Test Connectivity result and fails with its words when it is not a success. */
export async function expectTestOk(loc, what) {
  await loc.waitFor({ state: 'visible', timeout: 60000 });
  const ok = await loc.getAttribute('data-ok');
  const text = oneLine(await loc.innerText());
  log(`${what}: ${text}`);
  if (ok !== 'true') fail(`${what} failed: ${text}`);
}

export function taskRows() {
  return ctx.page.locator('[data-testid^="task-row-"]');
}

export function taskRow(name) {
  return ctx.page.locator(`[data-testid^="task-row-"][data-task-name="${name}"]`);
}

export async function waitTableLoaded() {
  await tid('tasks-table').waitFor({ state: 'visible' });
  await ctx.page.waitForFunction(() => !document.querySelector('[data-testid="tasks-table"] .ant-spin-spinning'), null, {
    timeout: 15000,
  });
}

async function saveDone() {
  // The form closes on success; a server error stays in the form.
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (!(await tid('conn-form').isVisible())) return;
    const err = tid('conn-save-error');
    if (await err.isVisible()) fail('saving the connection failed: ' + (await err.innerText()));
    const fieldErr = ctx.page.locator('[data-testid="conn-form"] .ant-form-item-explain-error');
    if ((await fieldErr.count()) > 0) fail('the connection form shows errors: ' + (await fieldErr.allInnerTexts()).join('; '));
    await ctx.page.waitForTimeout(150);
  }
  fail('the connection form did not close after Save');
}

async function testProfile(name, what) {
  const row = tid(`conn-row-${name}`);
  await row.waitFor({ timeout: 10000 });
  await row.getByTestId('conn-action-test').click();
  await expectTestOk(ctx.page.locator('.ant-modal:visible [data-testid="conn-test-result"]'), what);
  await shot(what.split(' ')[0].toLowerCase() + '-profile-test');
  await tid('conn-test-close').click();
}

/** Opens Connections; returns whether a profile with the name is already saved. */
async function profileSaved(name) {
  await tid('nav-connections').click();
  await tid('conn-table').waitFor({ state: 'visible' });
  await ctx.page.waitForFunction(() => !document.querySelector('[data-testid="conn-table"] .ant-spin-spinning'), null, {
    timeout: 15000,
  });
  return (await tid(`conn-row-${name}`).count()) > 0;
}

/** Connections → Create: a MySQL profile from the environment, saved and tested (an existing one is only tested). */
export async function createMySQLProfile(name) {
  if (await profileSaved(name)) {
    log(`MySQL connection ${name} exists: reusing it`);
    return testProfile(name, 'MySQL Test Connectivity');
  }
  await tid('conn-create').click();
  await tid('conn-form').waitFor();
  await tid('conn-kind-mysql').click();
  await tid('conn-name').fill(name);
  await tid('conn-host').fill(cfg.MYSQL_HOST);
  await tid('conn-port').fill(String(cfg.MYSQL_PORT));
  await tid('conn-user').fill(cfg.MYSQL_USER);
  await tid('conn-password').fill(cfg.MYSQL_PASSWORD);
  await shot('mysql-profile-form');
  await tid('conn-save').click();
  await saveDone();
  await testProfile(name, 'MySQL Test Connectivity');
}

/** Connections → Create: a Kafka profile from the environment, saved and tested (an existing one is only tested). */
export async function createKafkaProfile(name) {
  if (await profileSaved(name)) {
    log(`Kafka connection ${name} exists: reusing it`);
    return testProfile(name, 'Kafka Test Connectivity');
  }
  await tid('conn-create').click();
  await tid('conn-form').waitFor();
  await tid('conn-kind-kafka').click();
  await tid('conn-name').fill(name);
  await tid('conn-brokers').fill(cfg.KAFKA_BROKERS.split(/[\s,]+/).filter(Boolean).join('\n'));
  await pickSelect('conn-kafka-version', '2.8.0');
  await shot('kafka-profile-form');
  await tid('conn-save').click();
  await saveDone();
  await testProfile(name, 'Kafka Test Connectivity');
}

export async function waitStep(n, timeout = 30000) {
  await ctx.page.locator(`[data-testid="wizard"][data-step="${n}"]`).waitFor({ timeout });
}

/** Task list → Create Task → step 1 with the saved profiles → Test Connectivity and Proceed. */
export async function wizardStep1({ taskName, mysqlName, kafkaName, topic }) {
  const page = ctx.page;
  await tid('nav-tasks').click();
  await waitTableLoaded();
  await tid('tasks-create').click();
  await waitStep(1);
  await tid('wizard-task-name').waitFor();
  await tid('wizard-task-name').fill(taskName);
  await tid('wizard-source-mode-existing').click();
  await pickSelect('wizard-source-profile', mysqlName);
  await tid('wizard-dest-mode-existing').click();
  await pickSelect('wizard-dest-profile', kafkaName);
  await tid('wizard-topic').fill(topic);
  await page.keyboard.press('Escape');
  await shot('wizard-step1');
  await tid('wizard-test-proceed').click();
  const deadline = Date.now() + 60000;
  while (Date.now() < deadline) {
    if (await page.locator('[data-testid="wizard"][data-step="2"]').isVisible()) return;
    for (const id of ['wizard-test-source', 'wizard-test-dest']) {
      const r = tid(id);
      if ((await r.isVisible()) && (await r.getAttribute('data-ok')) === 'false') {
        await shot('wizard-step1-failed');
        fail(`step 1 ${id}: ${oneLine(await r.innerText())}`);
      }
    }
    const errs = page.locator('[data-testid="wizard-errors-1"]');
    if (await errs.isVisible()) {
      await shot('wizard-step1-errors');
      fail('step 1 has errors: ' + oneLine(await errs.innerText()));
    }
    await page.waitForTimeout(200);
  }
  fail('the wizard did not reach step 2');
}

/** Step 2: the migration types. */
export async function setMigrationTypes({ full, incremental }) {
  const box = (id) => tid(id).locator('input[type=checkbox]');
  if (full) await box('wizard-type-full').check();
  else await box('wizard-type-full').uncheck();
  if (incremental) await box('wizard-type-incremental').check();
  else await box('wizard-type-incremental').uncheck();
}

const treeNode = (id) => ctx.page.locator('.ant-tree-treenode', { has: tid(id) });

/** Step 2: ticks DB's tables in Source Objects and moves them to Selected Objects. */
export async function selectTables(db, tables) {
  const dbNode = tid(`tree-node-${db}`);
  try {
    await dbNode.waitFor({ timeout: 30000 });
  } catch {
    const err = tid('objects-load-error');
    if (await err.isVisible()) fail('listing the source databases failed: ' + (await err.innerText()));
    fail(`database ${db} is not in Source Objects`);
  }
  await treeNode(`tree-node-${db}`).locator('.ant-tree-switcher').click();
  for (const tb of tables) {
    await tid(`tree-node-${db}.${tb}`).waitFor({ timeout: 10000 });
    await treeNode(`tree-node-${db}.${tb}`).locator('.ant-tree-checkbox').click();
  }
  await tid('objects-add').click();
  for (const tb of tables) await tid(`selected-object-${db}.${tb}`).waitFor({ timeout: 5000 });
}

/** Step 2: right-click a selected table → Edit → Table Name (its topic) → OK. */
export async function editTopic(db, table, topic) {
  const page = ctx.page;
  const name = `${db}.${table}`;
  // The context menu can close again when the list re-renders right after the tables were
  // added: open it again then.
  for (let attempt = 1; ; attempt++) {
    await tid(`selected-object-${name}`).click({ button: 'right' });
    const item = tid(`ctx-edit-${name}`);
    try {
      await item.waitFor({ state: 'visible', timeout: 3000 });
      await item.click({ timeout: 3000 });
      await tid('edit-table-dialog').waitFor({ timeout: 3000 });
      break;
    } catch (e) {
      if (attempt === 3) fail(`right-click → Edit on ${name} did not open the Edit Table dialog: ${e.message.split('\n')[0]}`);
      log(`right-click → Edit on ${name}: no dialog yet (${e.message.split('\n')[0]}); trying again`);
      await page.keyboard.press('Escape');
    }
  }
  await tid('edit-topic').fill(topic);
  await shot('edit-table');
  await page
    .waitForFunction(() => !document.querySelector('[data-testid="edit-ok"]')?.hasAttribute('disabled'), null, { timeout: 5000 })
    .catch(async () =>
      fail('Edit Table OK stays disabled: ' + ((await tid('edit-errors').isVisible()) ? await tid('edit-errors').innerText() : '')),
    );
  await tid('edit-ok').click();
  await tid('edit-table-dialog').waitFor({ state: 'hidden' });
  await tid(`edited-${name}`).waitFor({ timeout: 5000 });
  if ((await tid(`selected-object-${name}`).getAttribute('data-edited')) !== 'true') fail(`${name} is not marked edited`);
}

/** Step 2 → step 3. */
export async function nextAdvanced() {
  await tid('wizard-next-advanced').click();
  try {
    await waitStep(3, 10000);
  } catch {
    const errs = tid('wizard-errors-2');
    fail('step 2 did not proceed: ' + ((await errs.isVisible()) ? oneLine(await errs.innerText()) : 'unknown'));
  }
}

/** Step 3 → Save and Precheck → step 4. */
export async function savePrecheck() {
  const page = ctx.page;
  await tid('wizard-save-precheck').click();
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (await page.locator('[data-testid="wizard"][data-step="4"]').isVisible()) return;
    const err = tid('wizard-save-error');
    if (await err.isVisible()) fail('saving the task failed: ' + oneLine(await err.innerText()));
    for (const s of [1, 2, 3]) {
      const e = tid(`wizard-errors-${s}`);
      if (await e.isVisible()) fail(`step ${s} has errors: ` + oneLine(await e.innerText()));
    }
    await page.waitForTimeout(200);
  }
  fail('the wizard did not reach the precheck');
}

export async function waitPrecheckFinished() {
  await ctx.page.locator('[data-testid="precheck"][data-finished="true"]').waitFor({ timeout: 120000 });
}

/** The precheck items as {code, result, ignored}. */
export async function precheckItems() {
  return ctx.page.locator('[data-testid^="precheck-item-"]').evaluateAll((els) =>
    els.map((e) => ({
      code: e.getAttribute('data-testid').slice('precheck-item-'.length),
      result: e.getAttribute('data-result'),
      ignored: e.getAttribute('data-ignored') === 'true',
    })),
  );
}

/** Fails with the names and details of the failed precheck items, if any. */
export async function failOnFailedItems() {
  const failed = ctx.page.locator('[data-testid^="precheck-item-"][data-result="failed"]');
  if ((await failed.count()) === 0) return;
  const names = await failed.allInnerTexts();
  for (const code of await failed.evaluateAll((els) => els.map((e) => e.getAttribute('data-testid').slice('precheck-item-'.length)))) {
    await tid(`precheck-view-${code}`).click().catch(() => {});
  }
  await shot('precheck-failed');
  const details = await ctx.page.locator('[data-testid^="precheck-details-"]').allInnerTexts();
  fail('precheck failed: ' + names.map(oneLine).join(' | ') + ' :: ' + details.join(' | '));
}

/** Confirm Alert Details → Ignore → OK on one warning; waits until it shows ignored. */
export async function ignoreWarning(code) {
  log('ignoring precheck warning', code);
  await tid(`precheck-confirm-${code}`).click();
  await tid('precheck-confirm-dialog').waitFor();
  await tid('precheck-ignore').click();
  await tid('precheck-ignore-ok').click();
  await tid('precheck-confirm-dialog').waitFor({ state: 'hidden' });
  await ctx.page.locator(`[data-testid="precheck-item-${code}"][data-ignored="true"]`).waitFor({ timeout: 10000 });
  await shot('precheck-ignored-' + code);
}

/** Step 4 → step 5 (Next stays disabled until the precheck passes). */
export async function nextStart() {
  const next = tid('wizard-next-start');
  if (!(await next.isEnabled())) fail('Next stays disabled after the precheck');
  await next.click();
  await waitStep(5, 10000);
}

/** Step 5: checks the object count and starts the task; the detail page opens. */
export async function startFromSummary(objects) {
  const n = await tid('summary-objects-count').innerText();
  if (n.trim() !== String(objects)) fail(`the summary lists ${n} objects, want ${objects}`);
  await shot('wizard-step5');
  await tid('wizard-start').click();
  await tid('task-detail').waitFor({ timeout: 20000 });
}

/** The detail page's state and full-migration percent. */
export async function detailState() {
  const state = await tid('detail-state').first().getAttribute('data-state').catch(() => null);
  const pct = await tid('detail-percent').getAttribute('data-percent').catch(() => null);
  return { state, pct: pct === null ? null : Number(pct) };
}

/** Fails with the last error when the task on the detail page has failed or stopped. */
export async function failIfEnded(state) {
  if (state === 'Failed' || state === 'Stopped') {
    await shot('task-failed');
    const err = tid('detail-last-error');
    fail(`the task ended ${state}` + ((await err.isVisible()) ? ': ' + oneLine(await err.innerText()) : ''));
  }
}

/**
 * Task list → Export of the task (checked by check(json)) → Import the text → one more task in
 * the list. Returns the exported text.
 */
export async function exportAndImport(taskName, check) {
  const page = ctx.page;
  await tid('nav-tasks').click();
  await waitTableLoaded();
  const row = taskRow(taskName);
  await row.first().waitFor();
  if ((await row.count()) !== 1) fail(`want one task named ${taskName}, have ${await row.count()}`);

  await row.getByTestId('task-action-export').click();
  const text = page.locator('[data-testid="export-text"][data-loaded="true"]');
  await text.waitFor({ timeout: 10000 });
  const exported = await text.inputValue();
  let j;
  try {
    j = JSON.parse(exported);
  } catch (e) {
    fail('the export is not JSON: ' + e.message);
  }
  if (j.name !== taskName) fail(`the exported task is named ${j.name}`);
  check(j);
  await shot('export');
  await tid('export-close').click();

  const before = await taskRows().count();
  await tid('tasks-import').click();
  await tid('import-text').fill(exported);
  await tid('import-submit').click();
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (await tid('import-success').isVisible()) break;
    if (await tid('import-errors').isVisible()) {
      await shot('import-errors');
      fail('import reported errors: ' + oneLine(await tid('import-errors').innerText()));
    }
    if (await tid('import-failure').isVisible()) fail('import failed: ' + (await tid('import-failure').innerText()));
    await page.waitForTimeout(150);
  }
  if (!(await tid('import-success').isVisible())) fail('import did not report success');
  await shot('import');
  await tid('import-close').click();
  const until = Date.now() + 10000;
  let after = before;
  while (Date.now() < until) {
    after = await taskRows().count();
    if (after === before + 1) break;
    await page.waitForTimeout(200);
  }
  if (after !== before + 1) fail(`the list has ${after} tasks after the import, want ${before + 1}`);
  log(`tasks in the list: ${after}`);
  await shot('after-import');
  return exported;
}

/**
 * Launches Chromium, opens the console and runs flow(); prints "1 passed, 0 failed" and exits 0,
 * or the failure and "0 passed, 1 failed" and exits 1. initScript runs in the page before the app.
 */
export function run(flow, { initScript } = {}) {
  const main = async () => {
    if (!cfg.BASE) fail('TRIBUTARY_URL is not set');
    if (!cfg.DB) fail('DB is not set');
    const browser = await chromium.launch({
      executablePath: cfg.CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-dev-shm-usage',
      ],
    });
    try {
      const context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, acceptDownloads: true, locale: 'en-US' });
      context.setDefaultTimeout(15000);
      if (initScript) await context.addInitScript(initScript);
      const page = await context.newPage();
      ctx.page = page;
      page.on('pageerror', (e) => log('page error:', e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') log('console error:', m.text());
      });
      await page.goto(cfg.BASE, { waitUntil: 'domcontentloaded' });
      await tid('app-title').waitFor();
      log('app loaded');
      await flow(page);
    } catch (e) {
      await shot('failure');
      throw e;
    } finally {
      await browser.close().catch(() => {});
    }
  };
  main().then(
    () => {
      console.log('1 passed, 0 failed');
      process.exit(0);
    },
    (e) => {
      console.error('FAIL:', e instanceof Failure ? e.message : e && e.stack ? e.stack : String(e));
      console.log('0 passed, 1 failed');
      process.exit(1);
    },
  );
}
