import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Form, Tag, Tooltip, Typography } from 'antd';
import dayjs from 'dayjs';
import type { FieldError, Progress, TaskSummary } from './api';
import { useI18n, type Key } from './i18n';
import { errorsAt } from './validate';

/** Props that put a data-testid on an antd component. */
export function tid(id: string): { 'data-testid': string } {
  return { 'data-testid': id };
}

/** Saves text as a file in the browser (a no-op where downloads are not possible). */
export function downloadText(filename: string, text: string, type = 'application/json') {
  try {
    const blob = new Blob([text], { type });
    const url = URL.createObjectURL(blob);
    const a = document.createElement('a');
    a.href = url;
    a.download = filename;
    a.style.display = 'none';
    document.body.appendChild(a);
    a.click();
    setTimeout(() => {
      URL.revokeObjectURL(url);
      a.remove();
    }, 1000);
  } catch {
    /* the export modal still shows the text */
  }
}

export async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    try {
      const ta = document.createElement('textarea');
      ta.value = text;
      ta.style.position = 'fixed';
      ta.style.opacity = '0';
      document.body.appendChild(ta);
      ta.select();
      const ok = document.execCommand('copy');
      ta.remove();
      return ok;
    } catch {
      return false;
    }
  }
}

export function readFileText(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result ?? ''));
    r.onerror = () => reject(r.error);
    r.readAsText(file);
  });
}

export function fmtTime(s?: string): string {
  if (!s || s.startsWith('0001-')) return '-';
  const d = dayjs(s);
  return d.isValid() ? d.format('YYYY-MM-DD HH:mm:ss') : s;
}

export function fmtNum(n: number | undefined | null, digits = 0): string {
  if (n === undefined || n === null || Number.isNaN(n)) return '-';
  return n.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function fmtLatency(ms: number | undefined | null): string {
  if (ms === undefined || ms === null || ms < 0) return '-';
  return (ms / 1000).toFixed(1) + ' s';
}

export function fmtEta(sec: number | undefined): string {
  if (!sec || sec <= 0 || !Number.isFinite(sec)) return '-';
  if (sec < 60) return Math.round(sec) + ' s';
  if (sec < 3600) return Math.floor(sec / 60) + ' min ' + Math.round(sec % 60) + ' s';
  return Math.floor(sec / 3600) + ' h ' + Math.round((sec % 3600) / 60) + ' min';
}

export const ACTIVE_STATES = ['Prechecking', 'Running', 'Retrying'];

/** The task state after a progress event: progress never moves a task out of a settled state. */
export function stateAfterProgress(prev: string, p: Progress): string {
  const known = ['Running', 'Retrying', 'Completed', 'Failed'];
  if (!p.state || !known.includes(p.state)) return prev;
  if (!ACTIVE_STATES.includes(prev)) return prev;
  return p.state;
}

const stateColors: Record<string, string> = {
  NotStarted: 'default',
  Prechecking: 'processing',
  PrecheckFailed: 'error',
  Running: 'processing',
  Retrying: 'warning',
  Paused: 'orange',
  Failed: 'error',
  Completed: 'success',
  Stopped: 'default',
};

/** The state's display name: "Running" shows as "Migrating" during full migration. */
export function stateKey(state: string, progress?: Progress | null): Key {
  if (state === 'Running' && progress?.phase === 'full') return 'state.Migrating';
  const k = ('state.' + state) as Key;
  return k;
}

export function StateTag({ task, testId }: { task: Pick<TaskSummary, 'state' | 'progress'>; testId?: string }) {
  const { t, has } = useI18n();
  const key = stateKey(task.state, task.progress);
  return (
    <Tag color={stateColors[task.state] ?? 'default'} data-state={task.state} {...(testId ? tid(testId) : {})}>
      {has(key) ? t(key) : task.state}
    </Tag>
  );
}

/** Debounces a value. */
export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const h = setTimeout(() => setV(value), ms);
    return () => clearTimeout(h);
  }, [value, ms]);
  return v;
}

/** Keeps the latest value in a ref, for event handlers registered once. */
export function useLatest<T>(value: T) {
  const r = useRef(value);
  r.current = value;
  return r;
}

/**
 * A form row that shows the errors for a JSON path (and, unless exact, for the paths below it)
 * in red under the control, with the validator's exact words.
 */
export function Field(props: {
  label?: ReactNode;
  path?: string;
  paths?: string[];
  errors: FieldError[];
  exact?: boolean;
  show?: boolean;
  extra?: ReactNode;
  required?: boolean;
  tooltip?: ReactNode;
  children: ReactNode;
  testId?: string;
}) {
  const { label, path, paths, errors, exact, show = true, extra, required, tooltip, children, testId } = props;
  const all = [...(path ? [path] : []), ...(paths ?? [])];
  const errs = show ? all.flatMap((p) => errorsAt(errors, p, exact)) : [];
  const seen = new Set<string>();
  const uniq = errs.filter((e) => {
    const k = e.path + '\u0000' + e.message;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return (
    <Form.Item
      label={label}
      required={required}
      tooltip={tooltip}
      extra={extra}
      validateStatus={uniq.length ? 'error' : undefined}
      help={
        uniq.length ? (
          <div data-testid={testId ? testId + '-error' : 'field-error'} data-path={uniq[0].path}>
            {uniq.map((e, i) => (
              <div key={i}>{e.message}</div>
            ))}
          </div>
        ) : undefined
      }
    >
      {children}
    </Form.Item>
  );
}

/** A list of field errors with their paths. */
export function ErrorList({ errors, testId }: { errors: FieldError[]; testId?: string }) {
  if (!errors.length) return null;
  return (
    <ul style={{ margin: 0, paddingLeft: 18 }} {...(testId ? tid(testId) : {})}>
      {errors.map((e, i) => (
        <li key={i}>
          <Typography.Text code>{e.path}</Typography.Text> <Typography.Text type="danger">{e.message}</Typography.Text>
        </li>
      ))}
    </ul>
  );
}

export function Hint({ text }: { text: ReactNode }) {
  return (
    <Tooltip title={text}>
      <Typography.Text type="secondary" style={{ cursor: 'help' }}>
        ⓘ
      </Typography.Text>
    </Tooltip>
  );
}

/** A deep copy for JSON-shaped values. */
export function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** "$.a.b[2].c" → ["a", "b", 2, "c"]. */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /\.([A-Za-z0-9_]+)|\[(\d+)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path))) out.push(m[1] !== undefined ? m[1] : Number(m[2]));
  return out;
}

export function getIn(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const k of parsePath(path)) {
    if (cur === null || cur === undefined) return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}

/** An immutable set by JSON path; missing objects on the way are created. */
export function setIn<T>(obj: T, path: string, value: unknown): T {
  const keys = parsePath(path);
  const rec = (cur: unknown, i: number): unknown => {
    if (i === keys.length) return value;
    const k = keys[i];
    const base: Record<string | number, unknown> | unknown[] = Array.isArray(cur)
      ? cur.slice()
      : cur && typeof cur === 'object'
        ? { ...(cur as object) }
        : typeof k === 'number'
          ? []
          : {};
    const b = base as Record<string | number, unknown>;
    const v = rec(b[k], i + 1);
    if (v === undefined) delete b[k];
    else b[k] = v;
    return base;
  };
  return rec(obj, 0) as T;
}

/** Which fields were touched, so errors show as you type but not before. */
export function useTouched() {
  const [touched, setTouched] = useState<Set<string>>(() => new Set());
  const [all, setAll] = useState(false);
  const touch = (path: string) =>
    setTouched((s) => {
      if (s.has(path)) return s;
      const n = new Set(s);
      n.add(path);
      return n;
    });
  const shown = (path: string) => {
    if (all) return true;
    for (const p of touched) if (p === path || p.startsWith(path + '.') || p.startsWith(path + '[') || path.startsWith(p + '.') || path.startsWith(p + '[')) return true;
    return false;
  };
  const reset = () => {
    setTouched(new Set());
    setAll(false);
  };
  return { touch, shown, showAll: () => setAll(true), all, reset };
}
