import { useEffect, useState } from 'react';
import { Alert, Checkbox, Input, InputNumber, Radio, Select, Switch, Typography } from 'antd';
import type { FieldError, TestResult } from '../api';
import { useI18n } from '../i18n';
import { useOptions } from '../options';
import { Field, tid } from '../util';

export interface PathBinding {
  get: (path: string) => unknown;
  set: (path: string, value: unknown) => void;
  errors: FieldError[];
  shown: (path: string) => boolean;
}

/** Turns textarea text into a broker list: one per line, commas and spaces also split. */
export function parseBrokers(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function BrokersInput(props: { value: string[]; onChange: (v: string[]) => void; testId: string; placeholder: string }) {
  const [text, setText] = useState(props.value.join('\n'));
  useEffect(() => {
    // Follow outside changes (loading a profile) without fighting the user's typing.
    if (parseBrokers(text).join('\n') !== props.value.join('\n')) setText(props.value.join('\n'));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.value.join('\n')]);
  return (
    <Input.TextArea
      value={text}
      autoSize={{ minRows: 2, maxRows: 6 }}
      placeholder={props.placeholder}
      onChange={(e) => {
        setText(e.target.value);
        props.onChange(parseBrokers(e.target.value));
      }}
      {...tid(props.testId)}
    />
  );
}

function num(v: number | string | null): number {
  if (v === null || v === '') return 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

function TLSFiles({ b, p, testPrefix }: { b: PathBinding; p: string; testPrefix: string }) {
  const { t } = useI18n();
  const str = (k: string) => (b.get(p + '.' + k) as string | undefined) ?? '';
  const text = (k: string, label: string, ph?: string) => (
    <Field label={label} path={p + '.' + k} errors={b.errors} show={b.shown(p + '.' + k)}>
      <Input value={str(k)} placeholder={ph} onChange={(e) => b.set(p + '.' + k, e.target.value || undefined)} {...tid(testPrefix + '-' + k)} />
    </Field>
  );
  return (
    <>
      {text('caFile', t('conn.caFile'), '/path/to/ca.pem')}
      {text('certFile', t('conn.certFile'), '/path/to/client-cert.pem')}
      {text('keyFile', t('conn.keyFile'), '/path/to/client-key.pem')}
      {text('serverName', t('conn.serverName'))}
      <Field errors={b.errors}>
        <Checkbox
          checked={!!b.get(p + '.insecureSkipVerify')}
          onChange={(e) => b.set(p + '.insecureSkipVerify', e.target.checked || undefined)}
        >
          {t('conn.insecureSkipVerify')}
        </Checkbox>
      </Field>
    </>
  );
}

/** The MySQL connection fields at `prefix` ("$.source" in a task, "$.mysql" in a profile). */
export function MySQLFields(props: { b: PathBinding; prefix: string; testPrefix: string; hasPassword?: boolean }) {
  const { t } = useI18n();
  const { b, prefix: p, testPrefix: tp } = props;
  const enc = (b.get(p + '.encryption') as string) || 'none';
  return (
    <>
      <Field label={t('conn.host')} path={p + '.host'} errors={b.errors} show={b.shown(p + '.host')} required>
        <Input
          value={(b.get(p + '.host') as string) ?? ''}
          placeholder="127.0.0.1"
          onChange={(e) => b.set(p + '.host', e.target.value)}
          {...tid(tp + '-host')}
        />
      </Field>
      <Field label={t('conn.port')} path={p + '.port'} errors={b.errors} show={b.shown(p + '.port')} required>
        <InputNumber
          value={(b.get(p + '.port') as number) ?? null}
          precision={0}
          style={{ width: 160 }}
          onChange={(v) => b.set(p + '.port', num(v))}
          {...tid(tp + '-port')}
        />
      </Field>
      <Field label={t('conn.account')} path={p + '.user'} errors={b.errors} show={b.shown(p + '.user')} required>
        <Input
          value={(b.get(p + '.user') as string) ?? ''}
          autoComplete="off"
          onChange={(e) => b.set(p + '.user', e.target.value)}
          {...tid(tp + '-user')}
        />
      </Field>
      <Field
        label={t('conn.password')}
        path={p + '.password'}
        paths={[p + '.passwordEnv']}
        errors={b.errors}
        show={b.shown(p + '.password')}
      >
        <Input.Password
          value={(b.get(p + '.password') as string) ?? ''}
          autoComplete="new-password"
          placeholder={props.hasPassword ? t('conn.passwordUnchanged') : undefined}
          onChange={(e) => b.set(p + '.password', e.target.value || undefined)}
          {...tid(tp + '-password')}
        />
      </Field>
      <Field label={t('conn.encryption')} path={p + '.encryption'} errors={b.errors} show={b.shown(p + '.encryption')}>
        <Radio.Group
          value={enc}
          onChange={(e) => {
            b.set(p + '.encryption', e.target.value);
            b.set(p + '.tls.enabled', e.target.value === 'ssl' || undefined);
          }}
          {...tid(tp + '-encryption')}
        >
          <Radio value="none">{t('conn.nonEncrypted')}</Radio>
          <Radio value="ssl">{t('conn.sslEncrypted')}</Radio>
        </Radio.Group>
      </Field>
      {enc === 'ssl' && <TLSFiles b={b} p={p + '.tls'} testPrefix={tp + '-tls'} />}
    </>
  );
}

/** The Kafka connection fields at `prefix` ("$.destination" or "$.kafka"). */
export function KafkaFields(props: { b: PathBinding; prefix: string; testPrefix: string; hasPassword?: boolean }) {
  const { t } = useI18n();
  const opts = useOptions();
  const { b, prefix: p, testPrefix: tp } = props;
  const mech = (b.get(p + '.sasl.mechanism') as string) || '';
  const tlsOn = !!b.get(p + '.tls.enabled');
  const version = (b.get(p + '.kafkaVersion') as string) || '';
  return (
    <>
      <Field
        label={t('conn.brokers')}
        path={p + '.brokers'}
        errors={b.errors}
        show={b.shown(p + '.brokers')}
        required
        extra={t('conn.brokersHint')}
      >
        <BrokersInput
          value={(b.get(p + '.brokers') as string[]) ?? []}
          onChange={(v) => b.set(p + '.brokers', v.length ? v : undefined)}
          testId={tp + '-brokers'}
          placeholder={'127.0.0.1:9092'}
        />
      </Field>
      <Field
        label={t('conn.kafkaVersion')}
        path={p + '.kafkaVersion'}
        errors={b.errors}
        show={b.shown(p + '.kafkaVersion')}
        extra={t('conn.kafkaVersionNote')}
      >
        <div {...tid(tp + '-kafka-version')} data-value={version}>
          <Select
            showSearch
            value={version || undefined}
            style={{ width: 200 }}
            options={opts.kafkaVersions.map((v) => ({ value: v, label: v }))}
            onChange={(v) => b.set(p + '.kafkaVersion', v)}
          />
        </div>
      </Field>
      <Field label={t('conn.encryption')} path={p + '.sasl.mechanism'} errors={b.errors} show={b.shown(p + '.sasl')}>
        <div {...tid(tp + '-sasl')} data-value={mech}>
          <Select
            value={mech}
            style={{ width: 260 }}
            onChange={(v) => b.set(p + '.sasl.mechanism', v || undefined)}
            options={[
              { value: '', label: t('conn.nonEncrypted') },
              ...opts.saslMechanisms.map((m) => ({ value: m, label: m === 'PLAIN' ? 'SASL PLAIN' : m })),
            ]}
          />
        </div>
      </Field>
      {mech && (
        <>
          <Field label={t('conn.saslUser')} path={p + '.sasl.user'} errors={b.errors} show={b.shown(p + '.sasl.user')} required>
            <Input
              value={(b.get(p + '.sasl.user') as string) ?? ''}
              autoComplete="off"
              onChange={(e) => b.set(p + '.sasl.user', e.target.value || undefined)}
              {...tid(tp + '-sasl-user')}
            />
          </Field>
          <Field
            label={t('conn.saslPassword')}
            path={p + '.sasl.password'}
            paths={[p + '.sasl.passwordEnv']}
            errors={b.errors}
            show={b.shown(p + '.sasl.password')}
          >
            <Input.Password
              value={(b.get(p + '.sasl.password') as string) ?? ''}
              autoComplete="new-password"
              placeholder={props.hasPassword ? t('conn.passwordUnchanged') : undefined}
              onChange={(e) => b.set(p + '.sasl.password', e.target.value || undefined)}
              {...tid(tp + '-sasl-password')}
            />
          </Field>
        </>
      )}
      <Field label={t('conn.tls')} errors={b.errors}>
        <Switch checked={tlsOn} onChange={(v) => b.set(p + '.tls.enabled', v || undefined)} {...tid(tp + '-tls')} />
      </Field>
      {tlsOn && <TLSFiles b={b} p={p + '.tls'} testPrefix={tp + '-tls'} />}
    </>
  );
}

export function TestResultView({ result, testId }: { result: TestResult | null; testId: string }) {
  const { t } = useI18n();
  if (!result) return null;
  const details = result.details ?? [];
  return (
    <Alert
      type={result.ok ? 'success' : 'error'}
      showIcon
      data-testid={testId}
      data-ok={result.ok ? 'true' : 'false'}
      message={result.message || (result.ok ? t('conn.testOk') : t('conn.testFailed'))}
      description={
        details.length ? (
          <ul style={{ margin: 0, paddingLeft: 18 }}>
            {details.map((d, i) => (
              <li key={i}>
                <Typography.Text style={{ fontSize: 12 }} className="tb-mono">
                  {d}
                </Typography.Text>
              </li>
            ))}
          </ul>
        ) : undefined
      }
    />
  );
}
