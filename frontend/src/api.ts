// The one API of app/API.md over its two transports: Wails bindings in the desktop window,
// HTTP + server-sent events under `tributary serve`.

/* ---------------------------------------------------------------- types */

export interface TLS {
  enabled?: boolean;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  insecureSkipVerify?: boolean;
  serverName?: string;
}

export interface MySQLConn {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  passwordEnv?: string;
  encryption?: '' | 'none' | 'ssl';
  tls: TLS;
  serverId?: number;
}

export interface Source extends MySQLConn {
  profile?: string;
}

export interface SASL {
  mechanism?: string;
  user?: string;
  password?: string;
  passwordEnv?: string;
}

export interface KafkaConn {
  brokers?: string[];
  kafkaVersion?: string;
  sasl: SASL;
  tls: TLS;
}

export interface Destination extends KafkaConn {
  profile?: string;
  topic: string;
  ddlTopic?: string;
  schemaRegistry: { enabled?: boolean; url?: string };
}

export interface MigrationTypes {
  full: boolean;
  incremental: boolean;
}

export interface Obj {
  database: string;
  table: string;
  topic?: string;
  partitions?: number;
  partitionKey?: string[];
  filter?: string;
  dml?: string[];
  ddl?: string[];
}

export interface Throttle {
  enabled: boolean;
  qps?: number;
  rps?: number;
  mbps?: number;
}

export interface Alerting {
  enabled: boolean;
  onFailure?: boolean;
  latencySeconds?: number;
  desktop?: boolean;
  webhook?: string;
}

export interface FormatOptions {
  canalOldFullImage?: boolean;
  canalSqlType?: string;
  binaryEncoding?: string;
}

export interface Advanced {
  retryConnectionMinutes: number;
  retryOtherMinutes: number;
  fullThrottle: Throttle;
  incrementalThrottle: Throttle;
  heartbeat: boolean;
  environmentTag?: string;
  alerting: Alerting;
  fullWorkers?: number;
  chunkRows?: number;
}

export interface TaskSpec {
  version: number;
  name: string;
  source: Source;
  destination: Destination;
  migrationTypes: MigrationTypes;
  conflictMode: string;
  format: string;
  compression: string;
  partitionPolicy: string;
  acks: string;
  capitalization: string;
  objects: Obj[];
  formatOptions: FormatOptions;
  advanced: Advanced;
}

export interface FieldError {
  path: string;
  message: string;
}

export interface KafkaProfile extends KafkaConn {
  topic?: string;
  ddlTopic?: string;
  schemaRegistryUrl?: string;
}

export type ProfileKind = 'mysql' | 'kafka';

export interface Profile {
  id: number;
  name: string;
  kind: ProfileKind;
  mysql?: MySQLConn;
  kafka?: KafkaProfile;
  hasPassword: boolean;
  created?: string;
  updated?: string;
  // The store's Go struct has no json tags on these; accept both spellings.
  Created?: string;
  Updated?: string;
}

export interface Choice {
  value: string;
  label: string;
}

export interface Options {
  conflictModes: Choice[];
  formats: Choice[];
  compressions: Choice[];
  partitionPolicies: Choice[];
  acks: Choice[];
  capitalizations: Choice[];
  dmlOps: string[];
  ddlOps: string[];
  saslMechanisms: string[];
  kafkaVersions: string[];
  taskStates: string[];
}

export type TaskState =
  | 'NotStarted'
  | 'Prechecking'
  | 'PrecheckFailed'
  | 'Running'
  | 'Retrying'
  | 'Paused'
  | 'Failed'
  | 'Completed'
  | 'Stopped';

export interface TableProgress {
  database: string;
  table: string;
  rowsDone: number;
  rowsEstimated: number;
  percent: number;
  rowsPerSec: number;
  mbPerSec: number;
  etaSeconds: number;
  state: 'Waiting' | 'Migrating' | 'Completed' | 'Failed' | string;
  resumable: boolean;
}

export interface Progress {
  taskId: number;
  state: TaskState | string;
  phase: 'full' | 'incremental' | '';
  tables: TableProgress[] | null;
  rowsDone: number;
  rowsEstimated: number;
  percent: number;
  rowsPerSec: number;
  mbPerSec: number;
  latencyMs: number;
  position: string;
  incrementalRowsPerSec: number;
  retryReason: string;
}

export interface TaskSummary {
  id: number;
  name: string;
  state: TaskState | string;
  lastError: string;
  source: string;
  destination: string;
  environmentTag: string;
  created: string;
  updated: string;
  migrationTypes: MigrationTypes;
  progress: Progress | null;
  deleted?: boolean;
}

export interface TaskDetail extends TaskSummary {
  spec: TaskSpec;
  ignoredWarnings: string[] | null;
}

export interface TestResult {
  ok: boolean;
  message: string;
  details: string[] | null;
}

export interface TableNode {
  name: string;
  rows: number;
  hasKey: boolean;
  engine: string;
}

export interface DatabaseNode {
  name: string;
  tables: TableNode[] | null;
}

export interface ColumnInfo {
  name: string;
  type: string;
  primaryKey: boolean;
  nullable: boolean;
}

export interface TopicInfo {
  name: string;
  partitions: number;
}

export type PrecheckResult = 'passed' | 'warning' | 'failed';

export interface PrecheckItem {
  code: string;
  name: string;
  result: PrecheckResult;
  details: string[] | null;
  fix: string;
  ignorable: boolean;
  ignored: boolean;
}

export interface PrecheckReport {
  taskId: number;
  started: string;
  finished: string;
  items: PrecheckItem[] | null;
  total: number;
  passed: boolean;
}

export interface EventRecord {
  id: number;
  taskId: number;
  time: string;
  level: 'info' | 'warn' | 'error' | string;
  message: string;
}

export interface Sample {
  time: string;
  rowsPerSec: number;
  mbPerSec: number;
  latencyMs: number;
}

export interface Settings {
  language: 'en' | 'zh';
  theme: 'system' | 'light' | 'dark';
}

export interface ImportResult {
  task: TaskSummary | null;
  errors: FieldError[] | null;
}

export interface ProfileImportResult {
  imported: string[] | null;
  errors: FieldError[] | null;
}

export interface PrecheckItemEvent {
  taskId: number;
  item: PrecheckItem;
  done: number;
  total: number;
}

/** A task alert (Monitoring and Alerting with desktop notification): a failure or high latency. */
export interface AlertEvent {
  task: string;
  taskId: number;
  kind: 'failed' | 'latency' | string;
  message: string;
  time: string;
  environmentTag?: string;
}

export interface EventMap {
  alert: AlertEvent;
  'task:update': TaskSummary;
  'task:progress': Progress;
  'task:event': EventRecord;
  'precheck:item': PrecheckItemEvent;
  'precheck:done': PrecheckReport;
}

/* ------------------------------------------------------------ transport */

type AnyFn = (...args: unknown[]) => Promise<unknown>;

interface WailsWindow {
  go?: { app?: Record<string, Record<string, AnyFn> | undefined> };
  runtime?: {
    EventsOn?: (name: string, cb: (...data: unknown[]) => void) => (() => void) | void;
    EventsOff?: (name: string, ...more: string[]) => void;
    BrowserOpenURL?: (url: string) => void;
  };
}

function wails(): WailsWindow {
  return window as unknown as WailsWindow;
}

/** Whether the UI runs inside the Wails desktop window. */
export function inDesktop(): boolean {
  return !!wails().go?.app;
}

function errorText(e: unknown): string {
  if (typeof e === 'string') return e;
  if (e instanceof Error) return e.message;
  if (e && typeof e === 'object' && 'error' in e) return String((e as { error: unknown }).error);
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}

/** Calls Service.Method(...args) over Wails when present, else over HTTP. */
export async function call<T>(service: string, method: string, ...args: unknown[]): Promise<T> {
  const fn = wails().go?.app?.[service]?.[method];
  if (typeof fn === 'function') {
    try {
      return (await fn(...args)) as T;
    } catch (e) {
      throw new Error(errorText(e));
    }
  }
  const res = await fetch('/api/' + service + '/' + method, {
    method: 'POST',
    body: JSON.stringify(args),
    headers: { 'Content-Type': 'application/json' },
  });
  const text = await res.text();
  let body: unknown = null;
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!res.ok) {
    const msg =
      body && typeof body === 'object' && 'error' in body
        ? String((body as { error: unknown }).error)
        : typeof body === 'string' && body
          ? body
          : `${res.status} ${res.statusText}`;
    throw new Error(msg);
  }
  return body as T;
}

let source: EventSource | null = null;

function eventSource(): EventSource {
  if (!source) source = new EventSource('/api/events');
  return source;
}

/** Subscribes to an app event; returns the unsubscribe function. */
export function on<K extends keyof EventMap>(name: K, cb: (data: EventMap[K]) => void): () => void;
export function on(name: string, cb: (data: unknown) => void): () => void;
export function on(name: string, cb: (data: never) => void): () => void {
  const handler = cb as (data: unknown) => void;
  const rt = wails().runtime;
  if (rt?.EventsOn) {
    const off = rt.EventsOn(name, (data: unknown) => handler(data));
    return () => {
      if (typeof off === 'function') off();
      else rt.EventsOff?.(name);
    };
  }
  if (typeof EventSource === 'undefined') return () => {};
  const es = eventSource();
  const listener = (ev: Event) => {
    const raw = (ev as MessageEvent).data;
    let data: unknown = raw;
    try {
      data = JSON.parse(raw);
    } catch {
      /* not JSON: pass the text */
    }
    handler(data);
  };
  es.addEventListener(name, listener);
  return () => es.removeEventListener(name, listener);
}

/* ------------------------------------------------------------- services */

export const Connections = {
  List: (kind: '' | ProfileKind = '') => call<Profile[] | null>('Connections', 'List', kind).then((r) => r ?? []),
  Save: (p: Profile) => call<Profile>('Connections', 'Save', p),
  Delete: (id: number) => call<null>('Connections', 'Delete', id),
  Duplicate: (id: number) => call<Profile>('Connections', 'Duplicate', id),
  Test: (p: Profile) => call<TestResult>('Connections', 'Test', p),
  Export: (ids: number[], includeSecrets: boolean) => call<string>('Connections', 'Export', ids, includeSecrets),
  Import: (text: string) => call<ProfileImportResult>('Connections', 'Import', text),
};

export const Catalog = {
  Databases: (source: Source) => call<DatabaseNode[] | null>('Catalog', 'Databases', source).then((r) => r ?? []),
  Columns: (source: Source, db: string, table: string) =>
    call<ColumnInfo[] | null>('Catalog', 'Columns', source, db, table).then((r) => r ?? []),
  Topics: (dest: Destination) => call<TopicInfo[] | null>('Catalog', 'Topics', dest).then((r) => r ?? []),
  VerifyFilter: (source: Source, db: string, table: string, filter: string) =>
    call<TestResult>('Catalog', 'VerifyFilter', source, db, table, filter),
};

export const Tasks = {
  Options: () => call<Options>('Tasks', 'Options'),
  Defaults: () => call<TaskSpec>('Tasks', 'Defaults'),
  Validate: (spec: TaskSpec) => call<FieldError[] | null>('Tasks', 'Validate', spec).then((r) => r ?? []),
  Preview: (spec: TaskSpec) => call<string>('Tasks', 'Preview', spec),
  List: () => call<TaskSummary[] | null>('Tasks', 'List').then((r) => r ?? []),
  Get: (id: number) => call<TaskDetail>('Tasks', 'Get', id),
  Create: (spec: TaskSpec) => call<TaskSummary>('Tasks', 'Create', spec),
  Update: (id: number, spec: TaskSpec) => call<TaskSummary>('Tasks', 'Update', id, spec),
  Delete: (id: number) => call<null>('Tasks', 'Delete', id),
  Clone: (id: number) => call<TaskSummary>('Tasks', 'Clone', id),
  Start: (id: number) => call<null>('Tasks', 'Start', id),
  Pause: (id: number) => call<null>('Tasks', 'Pause', id),
  Resume: (id: number) => call<null>('Tasks', 'Resume', id),
  Stop: (id: number) => call<null>('Tasks', 'Stop', id),
  SetThrottle: (id: number, full: Throttle, incremental: Throttle) =>
    call<null>('Tasks', 'SetThrottle', id, full, incremental),
  Export: (id: number, includeSecrets: boolean) => call<string>('Tasks', 'Export', id, includeSecrets),
  Import: (text: string) => call<ImportResult>('Tasks', 'Import', text),
  Events: (id: number, limit: number) => call<EventRecord[] | null>('Tasks', 'Events', id, limit).then((r) => r ?? []),
  Samples: (id: number) => call<Sample[] | null>('Tasks', 'Samples', id).then((r) => r ?? []),
};

export const Precheck = {
  Run: (id: number) => call<null>('Precheck', 'Run', id),
  Report: (id: number) => call<PrecheckReport | null>('Precheck', 'Report', id),
  Ignore: (id: number, code: string) => call<null>('Precheck', 'Ignore', id, code),
  ExportReport: (id: number, format: 'markdown' | 'html') => call<string>('Precheck', 'ExportReport', id, format),
};

export const SettingsAPI = {
  Get: () => call<Settings>('Settings', 'Get'),
  Save: (s: Settings) => call<null>('Settings', 'Save', s),
};

export const System = {
  Version: () => call<string>('System', 'Version'),
};

/** Splits the error text of Tasks.Create/Update ("$.a: msg; $.b: msg") into field errors. */
export function parseFieldErrors(text: string): FieldError[] {
  const out: FieldError[] = [];
  // Messages may contain "; " themselves; split only before a "$" path.
  const parts = text.split(/;\s+(?=\$)/);
  for (const part of parts) {
    const i = part.indexOf('$');
    if (i < 0) continue;
    const m = /^(\$[^\s:]*):\s([\s\S]*)$/.exec(part.slice(i));
    if (m) out.push({ path: m[1], message: m[2] });
  }
  return out;
}
