// End-to-end test of a full + incremental task in the Tributary console, in a real browser,
// against a running `tributary serve`, a MySQL/MariaDB source that is being written to, and a
// Kafka-protocol broker. Same environment as flow.spec.mjs:
//
//   TRIBUTARY_URL=... MYSQL_HOST=... MYSQL_PORT=... MYSQL_USER=... MYSQL_PASSWORD=... \
//   KAFKA_BROKERS=... TOPIC=inc DB=e2e [SCREENSHOT_DIR=/tmp/shots] node tests/e2e/incremental.spec.mjs
//
// DB must hold t1 and t2 (with primary keys) and nokey (without one, a few rows). Something
// should keep writing to DB.t1 while it runs (tests/e2e_incremental_test.go inserts a row every
// 200 ms), so that incremental latency is measured on real changes.
//
// Flow: connections (MySQL + Kafka) → Create Task: Full + Incremental Data Migration of t1, t2
// and nokey, t2 mapped to TOPIC_t2 by right-click → Edit; heartbeat on; Monitoring and Alerting
// with desktop notification and a 5 s latency threshold → precheck raises exactly one warning,
// CHECK_PRIMARY_KEY (nokey), ignored by Confirm Alert Details → Ignore → OK → Start → full
// migration at 100 % and the latency shown in the task list and the detail → a latency alert
// shows as an in-app notification and a system Notification → Pause → Paused → Resume →
// Running → the event log holds "task paused" and "task resumed" → export and re-import.
//
// Lines the driving test reacts to (stdout): "E2E-SIGNAL latency-spike" (write changes with an
// old commit time for a few seconds, so that latency passes the threshold), "E2E-PHASE paused"
// and "E2E-PHASE resuming" (what is written in between must reach Kafka after Resume).
// ALERT_CHECK=off skips the alert check (for a source nobody skews, e.g. to seed a store).
// Prints "1 passed, 0 failed" and exits 0 on success; "0 passed, 1 failed" and exits 1 otherwise.

import {
  cfg,
  names,
  createKafkaProfile,
  createMySQLProfile,
  ctx,
  detailState,
  editTopic,
  exportAndImport,
  fail,
  failIfEnded,
  failOnFailedItems,
  ignoreWarning,
  log,
  nextAdvanced,
  nextStart,
  precheckItems,
  run,
  savePrecheck,
  selectTables,
  setMigrationTypes,
  shot,
  startFromSummary,
  taskRow,
  tid,
  waitPrecheckFinished,
  waitTableLoaded,
  wizardStep1,
} from './lib.mjs';

const { DB, TOPIC } = cfg;
const { mysqlName, kafkaName, taskName } = names('inc');
const TABLES = ['t1', 't2', 'nokey'];

// A Notification API that records what the app shows and grants permission when asked, so the
// system-notification path runs in headless Chromium (which has no notification server).
// In-app notifications are recorded as they appear, as they close by themselves.
function initScript() {
  window.__notes = [];
  window.__inApp = [];
  window.__permissionAsked = 0;
  class RecordingNotification {
    static permission = 'default';
    static requestPermission(cb) {
      window.__permissionAsked++;
      RecordingNotification.permission = 'granted';
      if (typeof cb === 'function') cb('granted');
      return Promise.resolve('granted');
    }
    constructor(title, opts) {
      this.title = title;
      window.__notes.push({ title, body: (opts && opts.body) || '', tag: (opts && opts.tag) || '' });
    }
    close() {}
  }
  Object.defineProperty(window, 'Notification', { value: RecordingNotification, configurable: true, writable: true });
  new MutationObserver(() => {
    for (const el of document.querySelectorAll('[data-testid="alert-notification"]:not([data-seen])')) {
      el.setAttribute('data-seen', '1');
      window.__inApp.push({ kind: el.getAttribute('data-kind'), taskId: el.getAttribute('data-task-id'), text: el.innerText });
    }
  }).observe(document, { childList: true, subtree: true });
}

async function wizardStep2() {
  await setMigrationTypes({ full: true, incremental: true });
  await selectTables(DB, TABLES);
  // The table without a primary key is flagged in Source Objects.
  await tid(`no-key-${DB}.nokey`).waitFor({ timeout: 5000 }).catch(() => fail(`${DB}.nokey is not flagged as having no primary key`));
  await editTopic(DB, 't2', TOPIC + '_t2');
  for (const tb of ['t1', 'nokey']) {
    if ((await tid(`selected-object-${DB}.${tb}`).getAttribute('data-edited')) !== 'false') fail(`${DB}.${tb} is marked edited`);
  }
  await shot('wizard-step2');
  await nextAdvanced();
}

async function wizardStep3() {
  const page = ctx.page;
  // "Whether to delete SQL operations on heartbeat tables" = No: the heartbeat is written.
  await tid('adv-heartbeat-no').click();
  await tid('adv-env-tag').fill('test');
  await page.keyboard.press('Escape');
  await tid('adv-alerting-yes').click();
  await tid('adv-alert-failure').locator('input[type=checkbox]').check();
  await tid('adv-alert-desktop').locator('input[type=checkbox]').check();
  // Turning desktop alerts on asks for the permission to notify.
  await page.waitForFunction(() => window.__permissionAsked > 0, null, { timeout: 5000 }).catch(() =>
    fail('turning on desktop notifications did not ask for the notification permission'),
  );
  await tid('adv-alert-latency').fill('5');
  await tid('adv-alert-latency').press('Tab');
  await shot('wizard-step3');
  await savePrecheck();
}

async function wizardStep4() {
  const page = ctx.page;
  await waitPrecheckFinished();
  await shot('precheck');
  await failOnFailedItems();
  const perr = tid('precheck-error');
  if (await perr.isVisible()) fail('precheck error: ' + (await perr.innerText()));
  const items = await precheckItems();
  const warnings = items.filter((i) => i.result === 'warning' && !i.ignored).map((i) => i.code);
  log('precheck:', items.length, 'items; warnings:', warnings.join(', ') || 'none');
  if (warnings.length !== 1 || warnings[0] !== 'CHECK_PRIMARY_KEY') {
    fail(`want exactly one precheck warning, CHECK_PRIMARY_KEY (for ${DB}.nokey); have: ${warnings.join(', ') || 'none'}`);
  }
  // Next stays disabled while the warning is not ignored.
  if (await tid('wizard-next-start').isEnabled()) fail('Next is enabled before the warning is ignored');
  await tid('precheck-view-CHECK_PRIMARY_KEY').click();
  const details = await tid('precheck-details-CHECK_PRIMARY_KEY').innerText();
  if (!details.includes('nokey')) fail(`the CHECK_PRIMARY_KEY details do not name ${DB}.nokey: ${details}`);
  await ignoreWarning('CHECK_PRIMARY_KEY');
  await page
    .waitForFunction(() => !document.querySelector('[data-testid="wizard-next-start"]')?.hasAttribute('disabled'), null, { timeout: 5000 })
    .catch(() => fail('Next stays disabled after ignoring the only warning'));
  await nextStart();
}

const latencyText = async () => ((await tid('detail-latency').innerText().catch(() => '')) || '').trim();
const isLatency = (s) => /^\d+(\.\d+)?\s*s$/.test(s);

async function waitIncremental() {
  const deadline = Date.now() + 120000;
  let last = '';
  while (Date.now() < deadline) {
    const { state, pct } = await detailState();
    const lat = await latencyText();
    const now = `${state} ${pct} ${lat}`;
    if (now !== last) {
      last = now;
      log('task state', state, 'full percent', pct, 'latency', lat);
    }
    if (state === 'Running' && pct === 100 && isLatency(lat)) return;
    await failIfEnded(state);
    await ctx.page.waitForTimeout(500);
  }
  await shot('incremental-timeout');
  fail(`full migration did not reach 100% with incremental latency shown within 120 s (last: ${last})`);
}

async function checkTables() {
  for (const tb of TABLES) {
    const row = tid(`table-progress-${DB}.${tb}`);
    await row.waitFor({ timeout: 10000 });
    const st = await row.getAttribute('data-state');
    if (st !== 'Completed') fail(`${DB}.${tb} is ${st} in the full-migration table, want Completed`);
  }
}

async function checkList() {
  await tid('nav-tasks').click();
  await waitTableLoaded();
  const row = taskRow(taskName);
  await row.first().waitFor();
  await row
    .and(ctx.page.locator('[data-state="Running"]'))
    .locator('[data-testid="task-progress"][data-percent="100"]')
    .waitFor({ timeout: 10000 })
    .catch(() => fail('the task list does not show the task Running with full migration at 100%'));
  const deadline = Date.now() + 15000;
  let lat = '';
  while (Date.now() < deadline) {
    lat = (await row.getByTestId('task-latency').innerText()).trim();
    if (isLatency(lat)) break;
    await ctx.page.waitForTimeout(300);
  }
  if (!isLatency(lat)) fail(`the task list shows latency "${lat}", want seconds`);
  log('task list latency:', lat);
  await shot('task-list-running');
  await row.getByTestId('task-link').click();
  await tid('task-detail').waitFor();
}

async function checkLatencyAlert() {
  const page = ctx.page;
  console.log('E2E-SIGNAL latency-spike');
  const found = await page
    .waitForFunction(
      (name) =>
        window.__inApp.some((a) => a.kind === 'latency' && a.text.includes(name)) && window.__notes.some((n) => n.title.includes(name)),
      taskName,
      { timeout: 45000, polling: 250 },
    )
    .then(() => true)
    .catch(() => false);
  const seen = await page.evaluate(() => ({ inApp: window.__inApp, notes: window.__notes }));
  if (!found) fail('no latency alert was shown within 45 s: in-app ' + JSON.stringify(seen.inApp) + ', system ' + JSON.stringify(seen.notes));
  log('latency alert:', JSON.stringify(seen.notes.find((n) => n.title.includes(taskName))));
  if (!seen.inApp.some((a) => a.kind === 'latency' && a.text.includes('Test'))) fail('the in-app alert does not show the environment tag');
  await shot('latency-alert');
  // Close it, as a person would: it sits over the page's top-right buttons.
  const notice = page.locator('[data-testid="alert-notification"]');
  for (let i = (await notice.count()) - 1; i >= 0; i--) {
    await notice.nth(i).locator('.ant-notification-notice-close').click().catch(() => {});
  }
  await notice.first().waitFor({ state: 'detached', timeout: 5000 }).catch(() => {});
}

async function waitState(want, timeout = 30000) {
  const deadline = Date.now() + timeout;
  let state = null;
  while (Date.now() < deadline) {
    ({ state } = await detailState());
    if (state === want) return;
    await failIfEnded(state);
    await ctx.page.waitForTimeout(200);
  }
  fail(`the task is ${state}, want ${want}`);
}

async function pauseResume() {
  const page = ctx.page;
  await tid('task-action-pause').click();
  await waitState('Paused');
  log('paused');
  console.log('E2E-PHASE paused');
  await shot('paused');
  if (!(await tid('task-action-resume').isEnabled())) fail('Resume is not enabled while Paused');
  // Rows are written to the source while the task is paused.
  await page.waitForTimeout(3000);
  console.log('E2E-PHASE resuming');
  await tid('task-action-resume').click();
  await waitState('Running');
  log('resumed');
  // Latency comes back once the resumed reader has caught up.
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline && !isLatency(await latencyText())) await page.waitForTimeout(300);
  if (!isLatency(await latencyText())) fail('no latency after Resume');
  log('latency after Resume:', await latencyText());
  const events = async () => (await page.locator('[data-testid="event-row"]').allInnerTexts()).join('\n');
  const until = Date.now() + 15000;
  let text = '';
  while (Date.now() < until) {
    text = await events();
    if (/task paused/.test(text) && /task resumed/.test(text)) break;
    await page.waitForTimeout(300);
  }
  if (!/task paused/.test(text)) fail('the event log does not show "task paused"');
  if (!/task resumed/.test(text)) fail('the event log does not show "task resumed"');
  log('the event log shows the pause and the resume');
  await shot('resumed');
}

run(
  async () => {
    await createMySQLProfile(mysqlName);
    await createKafkaProfile(kafkaName);
    log('profiles created and tested');
    await wizardStep1({ taskName, mysqlName, kafkaName, topic: TOPIC });
    await wizardStep2();
    log('step 2 done');
    await wizardStep3();
    log('step 3 done: task saved');
    await wizardStep4();
    log('step 4 done: CHECK_PRIMARY_KEY ignored, precheck passed');
    await startFromSummary(TABLES.length);
    log('started');
    await waitIncremental();
    await checkTables();
    await shot('detail-incremental');
    log('full migration at 100%, incremental latency', await latencyText());
    await checkList();
    if (process.env.ALERT_CHECK === 'off') log('ALERT_CHECK=off: the latency alert is not checked');
    else await checkLatencyAlert();
    await pauseResume();
    await exportAndImport(taskName, (j) => {
      if (!j.migrationTypes || !j.migrationTypes.full || !j.migrationTypes.incremental) fail('the exported task is not full + incremental');
      if (!Array.isArray(j.objects) || j.objects.length !== TABLES.length) fail(`the exported task does not hold ${TABLES.length} objects`);
      const t2 = j.objects.find((o) => o.table === 't2');
      if (!t2 || t2.topic !== TOPIC + '_t2') fail(`the exported t2 maps to ${t2 && t2.topic}, want ${TOPIC}_t2`);
      if (!j.advanced || j.advanced.heartbeat !== true) fail('the exported task does not have the heartbeat on');
      const al = (j.advanced && j.advanced.alerting) || {};
      if (!al.enabled || !al.desktop || al.latencySeconds !== 5) fail('the exported alerting is ' + JSON.stringify(al));
    });
    // The imported copy is a new, not started task; the original still runs.
    const copies = ctx.page.locator(`[data-testid^="task-row-"][data-task-name="${taskName}"]`);
    if ((await copies.count()) !== 2) fail(`want the task and its imported copy in the list, have ${await copies.count()}`);
    const states = await copies.evaluateAll((els) => els.map((e) => e.getAttribute('data-state')).sort());
    if (states.join(',') !== 'NotStarted,Running') fail('after the import the two tasks are ' + states.join(', '));
    await shot('task-list-imported');
  },
  { initScript },
);
