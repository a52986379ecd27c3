// End-to-end test of the Tributary console in a real browser, against a running
// `tributary serve`, a MySQL/MariaDB source and a Kafka-protocol broker.
//
//   TRIBUTARY_URL=http://127.0.0.1:8080 MYSQL_HOST=127.0.0.1 MYSQL_PORT=3306 MYSQL_USER=root \
//   MYSQL_PASSWORD= KAFKA_BROKERS=127.0.0.1:9092 TOPIC=e2e DB=shop [SCREENSHOT_DIR=/tmp/shots] \
//   node tests/e2e/flow.spec.mjs
//
// Flow: connections (MySQL + Kafka, each tested) → Create Task wizard (profiles, topic, full
// migration of DB.t1 and DB.t2 with t2 mapped to TOPIC_t2 through right-click → Edit, precheck
// with ignorable warnings ignored, start) → Completed at 100% with row counts on the detail
// page → export the task and import it again → one more task in the list.
// Prints "1 passed, 0 failed" and exits 0 on success; "0 passed, 1 failed" and exits 1 otherwise.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const env = (k, d) => (process.env[k] !== undefined ? process.env[k] : d);
const BASE = env('TRIBUTARY_URL', '');
const MYSQL_HOST = env('MYSQL_HOST', '127.0.0.1');
const MYSQL_PORT = env('MYSQL_PORT', '3306');
const MYSQL_USER = env('MYSQL_USER', 'root');
const MYSQL_PASSWORD = env('MYSQL_PASSWORD', '');
const KAFKA_BROKERS = env('KAFKA_BROKERS', '127.0.0.1:9092');
const TOPIC = env('TOPIC', 'tributary_e2e');
const DB = env('DB', '');
const SHOTS = env('SCREENSHOT_DIR', '');
const CHROMIUM = env('CHROMIUM', '/usr/bin/chromium');

const stamp = Date.now().toString(36);
const mysqlName = `e2e-mysql-${stamp}`;
const kafkaName = `e2e-kafka-${stamp}`;
const taskName = `e2e-task-${stamp}`;

let page;
let shotNo = 0;
const t0 = Date.now();

function log(...a) {
  console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);
}

async function shot(name) {
  if (!SHOTS || !page) return;
  try {
    fs.mkdirSync(SHOTS, { recursive: true });
    const file = path.join(SHOTS, `${String(++shotNo).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
  } catch (e) {
    log('screenshot failed:', e.message);
  }
}

class Failure extends Error {}
function fail(msg) {
  throw new Failure(msg);
}

const tid = (id) => page.getByTestId(id);

/** Picks an option of the antd Select inside the element with the test id, by typing and clicking. */
async function pickSelect(testId, text) {
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
async function expectTestOk(loc, what) {
  await loc.waitFor({ state: 'visible', timeout: 60000 });
  const ok = await loc.getAttribute('data-ok');
  const text = (await loc.innerText()).replace(/\s+/g, ' ').trim();
  log(`${what}: ${text}`);
  if (ok !== 'true') fail(`${what} failed: ${text}`);
}

async function taskRows() {
  return page.locator('[data-testid^="task-row-"]');
}

async function waitTableLoaded() {
  await tid('tasks-table').waitFor({ state: 'visible' });
  await page.waitForFunction(() => !document.querySelector('[data-testid="tasks-table"] .ant-spin-spinning'), null, {
    timeout: 15000,
  });
}

async function createMySQLProfile() {
  await tid('nav-connections').click();
  await tid('conn-create').click();
  await tid('conn-form').waitFor();
  await tid('conn-kind-mysql').click();
  await tid('conn-name').fill(mysqlName);
  await tid('conn-host').fill(MYSQL_HOST);
  await tid('conn-port').fill(String(MYSQL_PORT));
  await tid('conn-user').fill(MYSQL_USER);
  await tid('conn-password').fill(MYSQL_PASSWORD);
  await shot('mysql-profile-form');
  await tid('conn-save').click();
  await saveDone();
  const row = tid(`conn-row-${mysqlName}`);
  await row.waitFor({ timeout: 10000 });
  await row.getByTestId('conn-action-test').click();
  await expectTestOk(page.locator('.ant-modal:visible [data-testid="conn-test-result"]'), 'MySQL Test Connectivity');
  await shot('mysql-profile-test');
  await tid('conn-test-close').click();
}

async function saveDone() {
  // The form closes on success; a server error stays in the form.
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (!(await tid('conn-form').isVisible())) return;
    const err = tid('conn-save-error');
    if (await err.isVisible()) fail('saving the connection failed: ' + (await err.innerText()));
    const fieldErr = page.locator('[data-testid="conn-form"] .ant-form-item-explain-error');
    if ((await fieldErr.count()) > 0) fail('the connection form shows errors: ' + (await fieldErr.allInnerTexts()).join('; '));
    await page.waitForTimeout(150);
  }
  fail('the connection form did not close after Save');
}

async function createKafkaProfile() {
  await tid('conn-create').click();
  await tid('conn-form').waitFor();
  await tid('conn-kind-kafka').click();
  await tid('conn-name').fill(kafkaName);
  await tid('conn-brokers').fill(KAFKA_BROKERS.split(/[\s,]+/).filter(Boolean).join('\n'));
  await pickSelect('conn-kafka-version', '2.8.0');
  await shot('kafka-profile-form');
  await tid('conn-save').click();
  await saveDone();
  const row = tid(`conn-row-${kafkaName}`);
  await row.waitFor({ timeout: 10000 });
  await row.getByTestId('conn-action-test').click();
  await expectTestOk(page.locator('.ant-modal:visible [data-testid="conn-test-result"]'), 'Kafka Test Connectivity');
  await shot('kafka-profile-test');
  await tid('conn-test-close').click();
}

async function waitStep(n, timeout = 30000) {
  await page.locator(`[data-testid="wizard"][data-step="${n}"]`).waitFor({ timeout });
}

async function wizardStep1() {
  await tid('wizard-task-name').waitFor();
  await tid('wizard-task-name').fill(taskName);
  await tid('wizard-source-mode-existing').click();
  await pickSelect('wizard-source-profile', mysqlName);
  await tid('wizard-dest-mode-existing').click();
  await pickSelect('wizard-dest-profile', kafkaName);
  await tid('wizard-topic').fill(TOPIC);
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
        fail(`step 1 ${id}: ${(await r.innerText()).replace(/\s+/g, ' ')}`);
      }
    }
    const errs = page.locator('[data-testid="wizard-errors-1"]');
    if (await errs.isVisible()) {
      await shot('wizard-step1-errors');
      fail('step 1 has errors: ' + (await errs.innerText()).replace(/\s+/g, ' '));
    }
    await page.waitForTimeout(200);
  }
  fail('the wizard did not reach step 2');
}

const treeNode = (id) => page.locator('.ant-tree-treenode', { has: tid(id) });

async function wizardStep2() {
  await tid('wizard-type-full').locator('input[type=checkbox]').check();
  await tid('wizard-type-incremental').locator('input[type=checkbox]').uncheck();
  const dbNode = tid(`tree-node-${DB}`);
  try {
    await dbNode.waitFor({ timeout: 30000 });
  } catch {
    const err = tid('objects-load-error');
    if (await err.isVisible()) fail('listing the source databases failed: ' + (await err.innerText()));
    fail(`database ${DB} is not in Source Objects`);
  }
  await treeNode(`tree-node-${DB}`).locator('.ant-tree-switcher').click();
  for (const tb of ['t1', 't2']) {
    const n = tid(`tree-node-${DB}.${tb}`);
    await n.waitFor({ timeout: 10000 });
    await treeNode(`tree-node-${DB}.${tb}`).locator('.ant-tree-checkbox').click();
  }
  await tid('objects-add').click();
  for (const tb of ['t1', 't2']) await tid(`selected-object-${DB}.${tb}`).waitFor({ timeout: 5000 });

  // Right-click t2 → Edit → Table Name (the topic).
  await tid(`selected-object-${DB}.t2`).click({ button: 'right' });
  await tid(`ctx-edit-${DB}.t2`).click();
  await tid('edit-table-dialog').waitFor();
  await tid('edit-topic').fill(TOPIC + '_t2');
  await shot('edit-table');
  const ok = tid('edit-ok');
  await page.waitForFunction(() => !document.querySelector('[data-testid="edit-ok"]')?.hasAttribute('disabled'), null, {
    timeout: 5000,
  }).catch(async () => fail('Edit Table OK stays disabled: ' + ((await tid('edit-errors').isVisible()) ? await tid('edit-errors').innerText() : '')));
  await ok.click();
  await tid('edit-table-dialog').waitFor({ state: 'hidden' });
  await tid(`edited-${DB}.t2`).waitFor({ timeout: 5000 });
  const edited = await tid(`selected-object-${DB}.t2`).getAttribute('data-edited');
  if (edited !== 'true') fail(`${DB}.t2 is not marked edited`);
  if ((await tid(`selected-object-${DB}.t1`).getAttribute('data-edited')) !== 'false') fail(`${DB}.t1 is marked edited`);
  await shot('wizard-step2');
  await tid('wizard-next-advanced').click();
  try {
    await waitStep(3, 10000);
  } catch {
    const errs = tid('wizard-errors-2');
    fail('step 2 did not proceed: ' + ((await errs.isVisible()) ? (await errs.innerText()).replace(/\s+/g, ' ') : 'unknown'));
  }
}

async function wizardStep3() {
  await shot('wizard-step3');
  await tid('wizard-save-precheck').click();
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (await page.locator('[data-testid="wizard"][data-step="4"]').isVisible()) return;
    const err = tid('wizard-save-error');
    if (await err.isVisible()) fail('saving the task failed: ' + (await err.innerText()).replace(/\s+/g, ' '));
    for (const s of [1, 2, 3]) {
      const e = tid(`wizard-errors-${s}`);
      if (await e.isVisible()) fail(`step ${s} has errors: ` + (await e.innerText()).replace(/\s+/g, ' '));
    }
    await page.waitForTimeout(200);
  }
  fail('the wizard did not reach the precheck');
}

async function waitPrecheckFinished() {
  await page.locator('[data-testid="precheck"][data-finished="true"]').waitFor({ timeout: 120000 });
}

async function wizardStep4() {
  await waitPrecheckFinished();
  await shot('precheck');
  for (let round = 0; round < 2; round++) {
    // Ignore every ignorable warning: Confirm Alert Details → Ignore → OK.
    for (let i = 0; i < 50; i++) {
      const btn = page.locator('button[data-testid^="precheck-confirm-"]').first();
      if ((await btn.count()) === 0) break;
      const code = (await btn.getAttribute('data-testid')).slice('precheck-confirm-'.length);
      log('ignoring precheck warning', code);
      await btn.click();
      await tid('precheck-confirm-dialog').waitFor();
      await tid('precheck-ignore').click();
      await tid('precheck-ignore-ok').click();
      await tid('precheck-confirm-dialog').waitFor({ state: 'hidden' });
      await page.locator(`[data-testid="precheck-item-${code}"][data-ignored="true"]`).waitFor({ timeout: 10000 });
      await shot('precheck-ignored-' + code);
    }
    const next = tid('wizard-next-start');
    if (await next.isEnabled()) break;
    const failed = page.locator('[data-testid^="precheck-item-"][data-result="failed"]');
    if ((await failed.count()) > 0) {
      const names = await failed.allInnerTexts();
      // Show the details of the failed items in the failure message.
      for (const code of await failed.evaluateAll((els) => els.map((e) => e.getAttribute('data-testid').slice('precheck-item-'.length)))) {
        await tid(`precheck-view-${code}`).click().catch(() => {});
      }
      await shot('precheck-failed');
      const details = await page.locator('[data-testid^="precheck-details-"]').allInnerTexts();
      fail('precheck failed: ' + names.map((s) => s.replace(/\s+/g, ' ')).join(' | ') + ' :: ' + details.join(' | '));
    }
    const perr = tid('precheck-error');
    if (await perr.isVisible()) fail('precheck error: ' + (await perr.innerText()));
    log('precheck not passed yet; running it again');
    await tid('precheck-again').click();
    await page.locator('[data-testid="precheck"][data-finished="false"]').waitFor({ timeout: 5000 }).catch(() => {});
    await waitPrecheckFinished();
  }
  const next = tid('wizard-next-start');
  if (!(await next.isEnabled())) fail('Next stays disabled after the precheck');
  await next.click();
  await waitStep(5, 10000);
}

async function wizardStep5() {
  const n = await tid('summary-objects-count').innerText();
  if (n.trim() !== '2') fail(`the summary lists ${n} objects, want 2`);
  await shot('wizard-step5');
  await tid('wizard-start').click();
  await tid('task-detail').waitFor({ timeout: 20000 });
}

async function waitCompleted() {
  const deadline = Date.now() + 60000;
  let last = '';
  while (Date.now() < deadline) {
    const state = await tid('detail-state').first().getAttribute('data-state').catch(() => null);
    const pct = await tid('detail-percent').getAttribute('data-percent').catch(() => null);
    if (state + ' ' + pct !== last) {
      last = state + ' ' + pct;
      log('task state', state, 'full percent', pct);
    }
    if (state === 'Completed' && Number(pct) === 100) return;
    if (state === 'Failed' || state === 'Stopped') {
      await shot('task-failed');
      const err = tid('detail-last-error');
      fail(`the task ended ${state}` + ((await err.isVisible()) ? ': ' + (await err.innerText()).replace(/\s+/g, ' ') : ''));
    }
    await page.waitForTimeout(500);
  }
  await shot('task-timeout');
  fail(`the task did not complete within 60 s (last: ${last})`);
}

async function checkRowCounts() {
  const total = Number(await tid('detail-rows-done').getAttribute('data-rows'));
  let sum = 0;
  for (const tb of ['t1', 't2']) {
    const row = tid(`table-progress-${DB}.${tb}`);
    await row.waitFor({ timeout: 10000 });
    const rows = tid(`rows-${DB}.${tb}`);
    const n = Number(await rows.getAttribute('data-rows'));
    const text = (await rows.innerText()).trim();
    if (!Number.isFinite(n) || !/\d/.test(text)) fail(`no row count for ${DB}.${tb} (${text})`);
    const st = await row.getAttribute('data-state');
    if (st !== 'Completed') fail(`${DB}.${tb} is ${st}, want Completed`);
    log(`${DB}.${tb}: ${text} rows`);
    sum += n;
  }
  if (!Number.isFinite(total)) fail('no total row count on the detail page');
  if (total !== sum) fail(`total rows ${total} != sum of tables ${sum}`);
  log('rows migrated:', total);
}

async function exportAndImport() {
  await tid('nav-tasks').click();
  await waitTableLoaded();
  const row = page.locator(`[data-testid^="task-row-"][data-task-name="${taskName}"]`);
  await row.first().waitFor();
  if ((await row.count()) !== 1) fail(`want one task named ${taskName}, have ${await row.count()}`);
  // The list shows it Completed at 100% as well.
  await page
    .locator(`[data-testid^="task-row-"][data-task-name="${taskName}"][data-state="Completed"] [data-testid="task-progress"][data-percent="100"]`)
    .waitFor({ timeout: 10000 })
    .catch(() => fail('the task list does not show the task Completed at 100%'));
  await shot('task-list-completed');

  await row.getByTestId('task-action-export').click();
  const text = page.locator('[data-testid="export-text"][data-loaded="true"]');
  await text.waitFor({ timeout: 10000 });
  const exported = await text.inputValue();
  try {
    const j = JSON.parse(exported);
    if (j.name !== taskName) fail(`the exported task is named ${j.name}`);
    if (!Array.isArray(j.objects) || j.objects.length !== 2) fail('the exported task does not hold 2 objects');
    const t2 = j.objects.find((o) => o.table === 't2');
    if (!t2 || t2.topic !== TOPIC + '_t2') fail(`the exported t2 maps to ${t2 && t2.topic}, want ${TOPIC}_t2`);
  } catch (e) {
    if (e instanceof Failure) throw e;
    fail('the export is not JSON: ' + e.message);
  }
  await shot('export');
  await tid('export-close').click();

  const before = await (await taskRows()).count();
  await tid('tasks-import').click();
  await tid('import-text').fill(exported);
  await tid('import-submit').click();
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    if (await tid('import-success').isVisible()) break;
    if (await tid('import-errors').isVisible()) {
      await shot('import-errors');
      fail('import reported errors: ' + (await tid('import-errors').innerText()).replace(/\s+/g, ' '));
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
    after = await (await taskRows()).count();
    if (after === before + 1) break;
    await page.waitForTimeout(200);
  }
  if (after !== before + 1) fail(`the list has ${after} tasks after the import, want ${before + 1}`);
  if (after < 2) fail(`want at least two tasks in the list, have ${after}`);
  log(`tasks in the list: ${after}`);
  await shot('two-tasks');
}

async function main() {
  if (!BASE) fail('TRIBUTARY_URL is not set');
  if (!DB) fail('DB is not set');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
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
    page = await context.newPage();
    page.on('pageerror', (e) => log('page error:', e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') log('console error:', m.text());
    });
    await page.goto(BASE, { waitUntil: 'domcontentloaded' });
    await tid('app-title').waitFor();
    log('app loaded');

    await createMySQLProfile();
    log('MySQL profile created and tested');
    await createKafkaProfile();
    log('Kafka profile created and tested');

    await tid('nav-tasks').click();
    await waitTableLoaded();
    await tid('tasks-create').click();
    await waitStep(1);
    await wizardStep1();
    log('step 1 done');
    await wizardStep2();
    log('step 2 done');
    await wizardStep3();
    log('step 3 done: task saved');
    await wizardStep4();
    log('step 4 done: precheck passed');
    await wizardStep5();
    log('started');
    await waitCompleted();
    await checkRowCounts();
    await shot('task-detail');
    await exportAndImport();
  } catch (e) {
    await shot('failure');
    throw e;
  } finally {
    await browser.close().catch(() => {});
  }
}

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
