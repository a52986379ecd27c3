import { useEffect, useMemo, useState } from 'react';
import { Tasks, type FieldError, type Obj, type TaskSpec } from './api';
import { useDebounced } from './util';
import { validateTask } from './validate';

/** A spec as the task file's Defaults() would leave it, for when Tasks.Defaults is unreachable. */
export function fallbackSpec(): TaskSpec {
  const d = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return {
    version: 1,
    name: `mysql-to-kafka-${d.getFullYear()}${pad(d.getMonth() + 1)}${pad(d.getDate())}-${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}`,
    source: { port: 3306, tls: {} },
    destination: { kafkaVersion: '2.8.0', sasl: {}, tls: {}, topic: '', schemaRegistry: {} },
    migrationTypes: { full: true, incremental: true },
    conflictMode: 'precheck-and-report',
    format: 'canal-json',
    compression: 'lz4',
    partitionPolicy: 'partition-0',
    acks: 'leader',
    capitalization: 'dts-default',
    objects: [],
    formatOptions: { canalSqlType: 'jdbc', binaryEncoding: 'iso-8859-1' },
    advanced: {
      retryConnectionMinutes: 720,
      retryOtherMinutes: 10,
      fullThrottle: { enabled: false },
      incrementalThrottle: { enabled: false },
      heartbeat: false,
      alerting: { enabled: false },
    },
  };
}

/** Fills in every nested object the UI reads, so fields never meet undefined. */
export function normalizeSpec(s: Partial<TaskSpec> | null | undefined): TaskSpec {
  const f = fallbackSpec();
  const x = (s ?? {}) as Partial<TaskSpec>;
  const adv: Partial<TaskSpec['advanced']> = x.advanced ?? {};
  return {
    ...f,
    ...x,
    version: x.version || 1,
    name: x.name ?? f.name,
    source: { ...(x.source ?? f.source), tls: x.source?.tls ?? {} },
    destination: {
      ...(x.destination ?? f.destination),
      sasl: x.destination?.sasl ?? {},
      tls: x.destination?.tls ?? {},
      topic: x.destination?.topic ?? '',
      schemaRegistry: x.destination?.schemaRegistry ?? {},
    },
    migrationTypes: x.migrationTypes ?? f.migrationTypes,
    objects: x.objects ?? [],
    formatOptions: { ...f.formatOptions, ...(x.formatOptions ?? {}) },
    advanced: {
      ...f.advanced,
      ...adv,
      fullThrottle: adv.fullThrottle ?? { enabled: false },
      incrementalThrottle: adv.incrementalThrottle ?? { enabled: false },
      alerting: adv.alerting ?? { enabled: false },
    },
  };
}

export type ConnMode = 'existing' | 'new';

/** The spec to validate and save: only the chosen kind of connection on each side. */
export function effectiveSpec(spec: TaskSpec, srcMode: ConnMode, dstMode: ConnMode): TaskSpec {
  const s = spec.source;
  const d = spec.destination;
  const source =
    srcMode === 'existing'
      ? { profile: s.profile ?? '', tls: {} }
      : (() => {
          const { profile: _p, ...rest } = s;
          void _p;
          return { ...rest, tls: rest.tls ?? {} };
        })();
  const common = { topic: d.topic ?? '', ddlTopic: d.ddlTopic || undefined, schemaRegistry: d.schemaRegistry ?? {} };
  const destination =
    dstMode === 'existing'
      ? { profile: d.profile ?? '', sasl: {}, tls: {}, ...common }
      : (() => {
          const { profile: _p, ...rest } = d;
          void _p;
          return { ...rest, sasl: rest.sasl ?? {}, tls: rest.tls ?? {}, ...common };
        })();
  return { ...spec, source, destination };
}

/** Whether an object carries any mapping or filter (DTS marks such objects as edited). */
export function isEdited(o: Obj): boolean {
  return !!(
    o.topic ||
    o.partitions ||
    (o.partitionKey && o.partitionKey.length) ||
    o.filter ||
    o.dml !== undefined ||
    o.ddl !== undefined
  );
}

/**
 * Errors for a spec as you type: the mirrored rules at once, then the Go side's answer to
 * Tasks.Validate (debounced) once it is for the spec on screen.
 */
export function useSpecErrors(spec: TaskSpec | null, delay = 350): FieldError[] {
  const key = useMemo(() => (spec ? JSON.stringify(spec) : ''), [spec]);
  const local = useMemo(() => (spec ? validateTask(spec) : []), [key]); // eslint-disable-line react-hooks/exhaustive-deps
  const [server, setServer] = useState<{ key: string; errors: FieldError[] } | null>(null);
  const debKey = useDebounced(key, delay);
  useEffect(() => {
    if (!debKey) return;
    let live = true;
    Tasks.Validate(JSON.parse(debKey) as TaskSpec)
      .then((errors) => {
        if (live) setServer({ key: debKey, errors: Array.isArray(errors) ? errors : [] });
      })
      .catch(() => {
        /* no server answer: the mirrored rules stand */
      });
    return () => {
      live = false;
    };
  }, [debKey]);
  return server && server.key === key ? server.errors : local;
}

export const STEP_PREFIXES: string[][] = [
  ['$.version', '$.name', '$.source', '$.destination'],
  ['$.migrationTypes', '$.conflictMode', '$.format', '$.compression', '$.partitionPolicy', '$.acks', '$.capitalization', '$.objects'],
  ['$.advanced', '$.formatOptions'],
];

/** The wizard step (0–2) whose page holds a path. */
export function stepOf(path: string): number {
  for (let i = 0; i < STEP_PREFIXES.length; i++) {
    if (STEP_PREFIXES[i].some((p) => path === p || path.startsWith(p + '.') || path.startsWith(p + '['))) return i;
  }
  return path === '$' ? 0 : 2;
}
