import { createContext, useContext } from 'react';
import type { Choice, Options } from './api';
import {
  DDL_OPS,
  DML_OPS,
  KAFKA_VERSIONS,
  SASL_MECHANISMS,
} from './validate';
import type { Lang } from './i18n';

/** What Tasks.Options() returns, used until (or if) the call answers. */
export const FALLBACK_OPTIONS: Options = {
  conflictModes: [
    { value: 'precheck-and-report', label: 'Precheck and Report Errors' },
    { value: 'ignore-and-proceed', label: 'Ignore Errors and Proceed' },
  ],
  formats: [
    { value: 'canal-json', label: 'Canal Json' },
    { value: 'dts-avro', label: 'DTS Avro' },
  ],
  compressions: [
    { value: 'lz4', label: 'LZ4' },
    { value: 'gzip', label: 'GZIP' },
    { value: 'snappy', label: 'Snappy' },
    { value: 'zstd', label: 'ZSTD (Kafka 2.1 or later)' },
    { value: 'none', label: 'None' },
  ],
  partitionPolicies: [
    { value: 'partition-0', label: 'Ship All Data to Partition 0' },
    {
      value: 'hash-db-table',
      label: 'Ship Data to Separate Partitions Based on Hash Values of Database and Table Names',
    },
    { value: 'hash-primary-key', label: 'Ship Data to Separate Partitions Based on Hash Values of Primary Keys' },
  ],
  acks: [
    { value: 'none', label: "Don't wait for any confirmation" },
    { value: 'leader', label: 'Wait for confirmation from the master node' },
    { value: 'all', label: 'Waiting for confirmation of all ISR' },
  ],
  capitalizations: [
    { value: 'dts-default', label: 'DTS default policy' },
    { value: 'source', label: 'Consistent with the source database' },
    { value: 'upper', label: 'Consistent with the default policy of the destination database (uppercase)' },
    { value: 'lower', label: 'Consistent with the default policy of the destination database (lowercase)' },
  ],
  dmlOps: DML_OPS,
  ddlOps: DDL_OPS,
  saslMechanisms: SASL_MECHANISMS,
  kafkaVersions: KAFKA_VERSIONS,
  taskStates: ['NotStarted', 'Prechecking', 'PrecheckFailed', 'Running', 'Retrying', 'Paused', 'Failed', 'Completed', 'Stopped'],
};

/** Simplified Chinese for the DTS option words (the DTS console's Chinese wording). */
const ZH: Record<string, string> = {
  'conflictModes.precheck-and-report': '预检查并报错拦截',
  'conflictModes.ignore-and-proceed': '忽略报错并继续执行',
  'formats.canal-json': 'Canal Json',
  'formats.dts-avro': 'DTS Avro',
  'compressions.lz4': 'LZ4',
  'compressions.gzip': 'GZIP',
  'compressions.snappy': 'Snappy',
  'compressions.zstd': 'ZSTD（Kafka 2.1 及以上）',
  'compressions.none': '不压缩',
  'partitionPolicies.partition-0': '投递到 Partition 0',
  'partitionPolicies.hash-db-table': '按库名+表名的哈希值投递到不同 Partition',
  'partitionPolicies.hash-primary-key': '按主键的哈希值投递到不同 Partition',
  'acks.none': '无需确认',
  'acks.leader': '等待主节点确认',
  'acks.all': '等待所有 ISR 确认',
  'capitalizations.dts-default': 'DTS 默认策略',
  'capitalizations.source': '与源库保持一致',
  'capitalizations.upper': '与目标库默认策略保持一致（大写）',
  'capitalizations.lower': '与目标库默认策略保持一致（小写）',
};

export type ChoiceKind = 'conflictModes' | 'formats' | 'compressions' | 'partitionPolicies' | 'acks' | 'capitalizations';

export function choiceLabel(lang: Lang, kind: ChoiceKind, c: Choice): string {
  if (lang === 'zh') return ZH[kind + '.' + c.value] ?? c.label;
  return c.label;
}

export function labelOf(opts: Options, lang: Lang, kind: ChoiceKind, value: string): string {
  const c = (opts[kind] ?? []).find((x) => x.value === value);
  return c ? choiceLabel(lang, kind, c) : value;
}

export const OptionsContext = createContext<Options>(FALLBACK_OPTIONS);

export function useOptions(): Options {
  return useContext(OptionsContext);
}

/** Whether the dark theme is in force (for the charts, which theme themselves). */
export const DarkContext = createContext(false);

export function useDark(): boolean {
  return useContext(DarkContext);
}
