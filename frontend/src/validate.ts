// A TypeScript mirror of engine/task/validate.go: the same rules, paths and messages, so the
// UI can show errors at once while the authoritative Tasks.Validate answer is on its way.

import type { FieldError, KafkaConn, MySQLConn, TaskSpec, Throttle } from './api';

export const MAX_MAPPED_TABLES = 1000;
const topicRe = /^[a-zA-Z0-9._-]{1,249}$/;

export const CONFLICT_MODES = ['precheck-and-report', 'ignore-and-proceed'];
export const FORMATS = ['canal-json', 'dts-avro'];
export const COMPRESSIONS = ['lz4', 'gzip', 'snappy', 'zstd', 'none'];
export const PARTITION_POLICIES = ['partition-0', 'hash-db-table', 'hash-primary-key'];
export const ACKS = ['none', 'leader', 'all'];
export const CAPITALIZATIONS = ['dts-default', 'source', 'upper', 'lower'];
export const DML_OPS = ['insert', 'update', 'delete'];
export const DDL_OPS = [
  'create table', 'alter table', 'drop table', 'rename table', 'truncate table',
  'create view', 'alter view', 'drop view',
  'create procedure', 'alter procedure', 'drop procedure',
  'create function', 'drop function',
  'create trigger', 'drop trigger',
  'create index', 'drop index',
];
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
export const KAFKA_VERSIONS = [
  '0.10.1.0', '0.10.2.0', '0.11.0.0', '1.0.0', '1.1.0', '2.0.0', '2.1.0', '2.2.0', '2.3.0',
  '2.4.0', '2.5.0', '2.6.0', '2.7.0', '2.8.0', '3.0.0', '3.1.0', '3.2.0', '3.3.0', '3.4.0',
  '3.5.0', '3.6.0', '3.7.0', '3.8.0', '3.9.0', '4.0.0', '4.1.0',
];

/** Go's %q for plain strings. */
export function q(s: string): string {
  return JSON.stringify(s ?? '');
}

/** Go's %v for a float64. */
function fv(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return String(n);
}

type Add = (path: string, message: string) => void;

export function versionLess(a: string, b: string): boolean {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < pa.length || i < pb.length; i++) {
    const x = i < pa.length ? parseInt(pa[i], 10) || 0 : 0;
    const y = i < pb.length ? parseInt(pb[i], 10) || 0 : 0;
    if (x !== y) return x < y;
  }
  return false;
}

function isHTTPURL(s: string | undefined): boolean {
  if (!s) return false;
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host !== '';
  } catch {
    return false;
  }
}

/** Mirrors net.SplitHostPort + port range check. */
export function isHostPort(b: string): boolean {
  let host: string;
  let port: string;
  if (b.startsWith('[')) {
    const end = b.indexOf(']');
    if (end < 0 || b[end + 1] !== ':') return false;
    host = b.slice(1, end);
    port = b.slice(end + 2);
  } else {
    const i = b.lastIndexOf(':');
    if (i < 0) return false;
    host = b.slice(0, i);
    port = b.slice(i + 1);
    if (host.includes(':')) return false;
  }
  if (host === '' || !/^[+-]?\d+$/.test(port)) return false;
  const n = parseInt(port, 10);
  return n >= 1 && n <= 65535;
}

function oneOf(add: Add, path: string, v: string | undefined, allowed: string[]) {
  if (!allowed.includes(v ?? '')) {
    add(path, `${q(v ?? '')} is not allowed; use one of: ${allowed.join(', ')}`);
  }
}

export function validateMySQL(m: MySQLConn, p: string, add: Add) {
  const host = m.host ?? '';
  if (host === '') add(p + '.host', 'required: the MySQL host name or IP address');
  else if (/[ /]/.test(host)) add(p + '.host', `${q(host)} is not a host name or IP address`);
  const port = m.port ?? 0;
  if (port < 1 || port > 65535) add(p + '.port', `${port} is out of range; allowed: 1 to 65535`);
  if (!m.user) add(p + '.user', 'required: the database account');
  if (m.password && m.passwordEnv) add(p + '.passwordEnv', 'give either password or passwordEnv, not both');
  if (m.encryption && m.encryption !== 'none' && m.encryption !== 'ssl') {
    add(p + '.encryption', `${q(m.encryption)} is not allowed; use one of: none, ssl`);
  }
}

export function validateKafka(k: KafkaConn, p: string, add: Add) {
  const brokers = k.brokers ?? [];
  if (brokers.length === 0) add(p + '.brokers', 'required: at least one bootstrap broker as host:port');
  brokers.forEach((b, i) => {
    if (!isHostPort(b)) add(`${p}.brokers[${i}]`, `${q(b)} is not host:port (for example 127.0.0.1:9092)`);
  });
  if (k.kafkaVersion && !KAFKA_VERSIONS.includes(k.kafkaVersion)) {
    add(p + '.kafkaVersion', `${q(k.kafkaVersion)} is not offered; use one of: ${KAFKA_VERSIONS.join(', ')}`);
  }
  const s = k.sasl ?? {};
  if (s.mechanism) {
    if (!SASL_MECHANISMS.includes(s.mechanism)) {
      add(
        p + '.sasl.mechanism',
        `${q(s.mechanism)} is not allowed; use one of: ${SASL_MECHANISMS.join(', ')}, or leave empty for none`,
      );
    }
    if (!s.user) add(p + '.sasl.user', 'required when SASL is on');
    if (s.password && s.passwordEnv) add(p + '.sasl.passwordEnv', 'give either password or passwordEnv, not both');
  }
}

export function validateThrottle(th: Throttle, p: string, full: boolean, add: Add) {
  const qps = th.qps ?? 0;
  const rps = th.rps ?? 0;
  const mbps = th.mbps ?? 0;
  if (qps < 0 || qps > 1000000) {
    add(p + '.qps', `${qps} is out of range; allowed: 1 to 1000000 queries per second, or 0 for unlimited`);
  }
  if (!full && qps !== 0) add(p + '.qps', 'incremental migration has no source QPS limit; use rps or mbps');
  if (rps < 0 || rps > 100000000) {
    add(p + '.rps', `${rps} is out of range; allowed: 1 to 100000000 rows per second, or 0 for unlimited`);
  }
  if (mbps < 0 || mbps > 100000) {
    add(p + '.mbps', `${fv(mbps)} is out of range; allowed: 0.01 to 100000 MB/s, or 0 for unlimited`);
  }
  if (th.enabled && qps === 0 && rps === 0 && mbps === 0) {
    add(p, 'throttling is enabled but no limit is set: give qps, rps or mbps');
  }
}

const topicMsg = (t: string) =>
  `${q(t)} is not a valid Kafka topic name (letters, digits, '.', '_', '-'; at most 249)`;

/** Go's len() counts bytes. */
function byteLen(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** Validates a task spec exactly as engine/task Validate does (after Defaults). */
export function validateTask(t: TaskSpec): FieldError[] {
  const es: FieldError[] = [];
  const add: Add = (path, message) => es.push({ path, message });

  if (t.version !== 1) add('$.version', `${t.version} is not a version this Tributary reads; use 1`);
  if ((t.name ?? '').trim() === '') add('$.name', 'required: give the task a name');
  else if (byteLen(t.name) > 128) add('$.name', 'at most 128 characters');

  const s = t.source ?? ({ tls: {} } as TaskSpec['source']);
  if (!s.profile) validateMySQL(s, '$.source', add);
  else if (s.host || s.password) add('$.source', 'give either "profile" or inline connection fields, not both');

  const d = t.destination ?? ({ sasl: {}, tls: {}, topic: '', schemaRegistry: {} } as TaskSpec['destination']);
  if (!d.profile) validateKafka(d, '$.destination', add);
  else if ((d.brokers ?? []).length > 0 || d.sasl?.password) {
    add('$.destination', 'give either "profile" or inline connection fields, not both');
  }
  if (!d.topic) add('$.destination.topic', 'required: the topic that receives the migrated data');
  else if (!topicRe.test(d.topic)) add('$.destination.topic', topicMsg(d.topic));
  if (d.ddlTopic && !topicRe.test(d.ddlTopic)) add('$.destination.ddlTopic', topicMsg(d.ddlTopic));
  if (d.schemaRegistry?.enabled) {
    if (!isHTTPURL(d.schemaRegistry.url)) {
      add('$.destination.schemaRegistry.url', 'must be an http:// or https:// URL when the schema registry is on');
    }
    if (t.format !== 'dts-avro') {
      add('$.destination.schemaRegistry.enabled', 'the schema registry is only used with the "dts-avro" format');
    }
  }

  if (!t.migrationTypes?.full && !t.migrationTypes?.incremental) {
    add('$.migrationTypes', 'select at least one of full and incremental');
  }
  oneOf(add, '$.conflictMode', t.conflictMode, CONFLICT_MODES);
  oneOf(add, '$.format', t.format, FORMATS);
  oneOf(add, '$.compression', t.compression, COMPRESSIONS);
  oneOf(add, '$.partitionPolicy', t.partitionPolicy, PARTITION_POLICIES);
  oneOf(add, '$.acks', t.acks, ACKS);
  oneOf(add, '$.capitalization', t.capitalization, CAPITALIZATIONS);
  oneOf(add, '$.formatOptions.canalSqlType', t.formatOptions?.canalSqlType || 'jdbc', ['jdbc', 'dts']);
  oneOf(add, '$.formatOptions.binaryEncoding', t.formatOptions?.binaryEncoding || 'iso-8859-1', [
    'iso-8859-1',
    'base64',
  ]);
  const dv = d.kafkaVersion || (d.profile ? '' : '2.8.0');
  if (t.compression === 'zstd' && !d.profile && dv !== '' && versionLess(dv, '2.1.0')) {
    add('$.compression', `ZSTD needs Kafka 2.1.0 or later; the destination is set to ${dv}`);
  }

  const objects = t.objects ?? [];
  if (objects.length === 0) add('$.objects', 'select at least one table');
  if (objects.length > MAX_MAPPED_TABLES) {
    add(
      '$.objects',
      `${objects.length} tables selected; DTS and Tributary allow at most ${MAX_MAPPED_TABLES} tables with name mapping in one task: split it into several tasks`,
    );
  }
  const seen = new Map<string, number>();
  objects.forEach((o, i) => {
    const p = `$.objects[${i}]`;
    if (!o.database) add(p + '.database', 'required');
    if (!o.table) add(p + '.table', 'required');
    const key = (o.database + '.' + o.table).toLowerCase();
    const j = seen.get(key);
    if (j !== undefined) add(p, `${o.database}.${o.table} is already selected at $.objects[${j}]`);
    seen.set(key, i);
    if (o.topic && !topicRe.test(o.topic)) add(p + '.topic', topicMsg(o.topic));
    const parts = o.partitions ?? 0;
    if (parts < 0 || parts > 10000) {
      add(p + '.partitions', `${parts} is out of range; allowed: 1 to 10000, or 0 for the topic's own count`);
    }
    if ((o.partitionKey ?? []).length > 0 && t.partitionPolicy !== 'hash-primary-key') {
      add(p + '.partitionKey', 'partition key columns are only used with the policy "hash-primary-key"');
    }
    if ((o.filter ?? '').includes(';')) {
      add(p + '.filter', "must not contain ';': give one condition without WHERE, e.g. id>100");
    }
    (o.dml ?? []).forEach((op, k) => oneOf(add, `${p}.dml[${k}]`, op.toLowerCase(), DML_OPS));
    (o.ddl ?? []).forEach((op, k) => oneOf(add, `${p}.ddl[${k}]`, op.toLowerCase(), DDL_OPS));
  });

  const a = t.advanced;
  const rc = a.retryConnectionMinutes ?? 0;
  const ro = a.retryOtherMinutes ?? 0;
  if (rc < 10 || rc > 1440) {
    add('$.advanced.retryConnectionMinutes', `${rc} is out of range; allowed: 10 to 1440 minutes (default 720)`);
  }
  if (ro < 1 || ro > 1440) {
    add('$.advanced.retryOtherMinutes', `${ro} is out of range; allowed: 1 to 1440 minutes (default 10)`);
  } else if (ro >= rc) {
    add('$.advanced.retryOtherMinutes', `must be smaller than retryConnectionMinutes (${rc})`);
  }
  validateThrottle(a.fullThrottle ?? { enabled: false }, '$.advanced.fullThrottle', true, add);
  validateThrottle(a.incrementalThrottle ?? { enabled: false }, '$.advanced.incrementalThrottle', false, add);
  if (a.fullThrottle?.enabled && !t.migrationTypes?.full) {
    add('$.advanced.fullThrottle.enabled', 'full-migration throttling needs full data migration selected');
  }
  if (a.incrementalThrottle?.enabled && !t.migrationTypes?.incremental) {
    add('$.advanced.incrementalThrottle.enabled', 'incremental throttling needs incremental data migration selected');
  }
  if (byteLen(a.environmentTag ?? '') > 64) add('$.advanced.environmentTag', 'at most 64 characters');
  const ls = a.alerting?.latencySeconds ?? 0;
  if (ls < 0 || ls > 86400) {
    add('$.advanced.alerting.latencySeconds', `${ls} is out of range; allowed: 0 (off) to 86400 seconds`);
  }
  if (a.alerting?.webhook && !isHTTPURL(a.alerting.webhook)) {
    add('$.advanced.alerting.webhook', 'must be an http:// or https:// URL');
  }
  const fw = a.fullWorkers ?? 0;
  if (fw < 0 || fw > 64) add('$.advanced.fullWorkers', `${fw} is out of range; allowed: 1 to 64, or 0 for the default`);
  const cr = a.chunkRows ?? 0;
  if (cr < 0 || (cr > 0 && cr < 100) || cr > 1000000) {
    add('$.advanced.chunkRows', `${cr} is out of range; allowed: 100 to 1000000, or 0 for the default (8192)`);
  }
  return es;
}

/** Errors for a field: the exact path and anything below it (brokers[2], dml[0]). */
export function errorsAt(errors: FieldError[], path: string, exact = false): FieldError[] {
  return errors.filter(
    (e) => e.path === path || (!exact && (e.path.startsWith(path + '[') || e.path.startsWith(path + '.'))),
  );
}

export function hasPrefix(path: string, prefixes: string[]): boolean {
  return prefixes.some((p) => path === p || path.startsWith(p + '.') || path.startsWith(p + '['));
}
