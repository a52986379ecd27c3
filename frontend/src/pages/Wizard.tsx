import { useCallback, useEffect, useMemo, useState, type ReactNode } from 'react';
import {
  Alert,
  App,
  AutoComplete,
  Button,
  Card,
  Checkbox,
  Col,
  Descriptions,
  Form,
  Input,
  InputNumber,
  Modal,
  Radio,
  Row,
  Select,
  Space,
  Spin,
  Steps,
  Switch,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import {
  Catalog,
  Connections,
  parseFieldErrors,
  Tasks,
  type DatabaseNode,
  type FieldError,
  type Obj,
  type Profile,
  type TaskSpec,
  type TestResult,
  type TopicInfo,
} from '../api';
import { useI18n } from '../i18n';
import { choiceLabel, labelOf, useOptions, type ChoiceKind } from '../options';
import { effectiveSpec, fallbackSpec, isEdited, normalizeSpec, stepOf, useSpecErrors, type ConnMode } from '../spec';
import { ErrorList, Field, getIn, setIn, tid, useTouched } from '../util';
import { KafkaFields, MySQLFields, TestResultView, type PathBinding } from '../components/ConnFields';
import { ObjectsTransfer } from '../components/Objects';
import { PrecheckRunner } from '../components/Precheck';
import { notificationPermission, requestNotificationPermission } from '../components/Alerts';
import { profileAddress } from './Connections';

const ENV_TAGS = ['dev', 'test', 'staging', 'production'];

function num(v: number | string | null): number {
  if (v === null || v === '') return 0;
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
}

export default function Wizard(props: { go: (to: string) => void; taskId?: number; startStep?: string }) {
  const { t, lang } = useI18n();
  const opts = useOptions();
  const { message } = App.useApp();
  const [step, setStep] = useState(0);
  const [spec, setSpec] = useState<TaskSpec | null>(null);
  const [loadError, setLoadError] = useState('');
  const [srcMode, setSrcMode] = useState<ConnMode>('existing');
  const [dstMode, setDstMode] = useState<ConnMode>('existing');
  const [savedId, setSavedId] = useState<number | null>(props.taskId ?? null);
  const [mysqlProfiles, setMysqlProfiles] = useState<Profile[]>([]);
  const [kafkaProfiles, setKafkaProfiles] = useState<Profile[]>([]);
  const [attempted, setAttempted] = useState<boolean[]>([false, false, false]);
  const [saveErrors, setSaveErrors] = useState<{ key: string; errors: FieldError[]; text: string } | null>(null);
  const [testing, setTesting] = useState(false);
  const [tests, setTests] = useState<{ source: TestResult | null; dest: TestResult | null }>({ source: null, dest: null });
  const [saving, setSaving] = useState(false);
  const [preview, setPreview] = useState<string | null>(null);
  const [precheckOk, setPrecheckOk] = useState(false);
  const [starting, setStarting] = useState(false);
  const [notifyPermission, setNotifyPermission] = useState(notificationPermission);
  const touched = useTouched();

  // Databases of the source (step 2).
  const [dbs, setDbs] = useState<DatabaseNode[] | null>(null);
  const [dbsLoading, setDbsLoading] = useState(false);
  const [dbsError, setDbsError] = useState('');
  const [dbsKey, setDbsKey] = useState('');

  // Topics of the destination (step 1).
  const [topics, setTopics] = useState<TopicInfo[]>([]);
  const [topicsKey, setTopicsKey] = useState('');
  const [topicsError, setTopicsError] = useState('');
  const [topicsLoading, setTopicsLoading] = useState(false);

  useEffect(() => {
    let live = true;
    Promise.all([Connections.List('mysql').catch(() => []), Connections.List('kafka').catch(() => [])]).then(([m, k]) => {
      if (!live) return;
      setMysqlProfiles(m.filter((p) => p.kind === 'mysql'));
      setKafkaProfiles(k.filter((p) => p.kind === 'kafka'));
      return [m, k];
    });
    const load = props.taskId
      ? Tasks.Get(props.taskId).then((d) => {
          setSavedId(d.id);
          return d.spec;
        })
      : Tasks.Defaults().catch(() => fallbackSpec());
    load
      .then((s) => {
        if (!live) return;
        const n = normalizeSpec(s);
        setSpec(n);
        if (props.taskId) {
          setSrcMode(n.source.profile ? 'existing' : 'new');
          setDstMode(n.destination.profile ? 'existing' : 'new');
          if (props.startStep === 'precheck') setStep(3);
        }
      })
      .catch((e: Error) => live && setLoadError(e.message));
    return () => {
      live = false;
    };
  }, [props.taskId, props.startStep]);

  // New tasks start with inline parameters when there is no saved profile to pick.
  useEffect(() => {
    if (props.taskId || !spec) return;
    if (!mysqlProfiles.length && !spec.source.profile) setSrcMode('new');
    if (!kafkaProfiles.length && !spec.destination.profile) setDstMode('new');
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [mysqlProfiles.length, kafkaProfiles.length]);

  const eff = useMemo(() => (spec ? effectiveSpec(spec, srcMode, dstMode) : null), [spec, srcMode, dstMode]);
  const effKey = useMemo(() => (eff ? JSON.stringify(eff) : ''), [eff]);
  const liveErrors = useSpecErrors(eff);
  const errors = saveErrors && saveErrors.key === effKey ? [...liveErrors, ...saveErrors.errors.filter((e) => !liveErrors.some((l) => l.path === e.path && l.message === e.message))] : liveErrors;
  const stepErrors = (s: number) => errors.filter((e) => stepOf(e.path) === s);
  const shown = (path: string) => attempted[stepOf(path)] || touched.shown(path);

  const set = useCallback(
    (path: string, v: unknown) => {
      touched.touch(path);
      setSpec((s) => (s ? setIn(s, path, v) : s));
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );
  const b: PathBinding = { get: (p) => getIn(spec, p), set, errors, shown };

  const srcKey = eff ? JSON.stringify(eff.source) : '';
  const dstConnKey = eff ? JSON.stringify({ ...eff.destination, topic: '', ddlTopic: '', schemaRegistry: {} }) : '';

  const loadDbs = useCallback(async () => {
    if (!eff) return;
    setDbsLoading(true);
    setDbsError('');
    setDbsKey(srcKey);
    try {
      setDbs(await Catalog.Databases(eff.source));
    } catch (e) {
      setDbs(null);
      setDbsError((e as Error).message);
    } finally {
      setDbsLoading(false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [srcKey]);

  useEffect(() => {
    if (step === 1 && eff && dbsKey !== srcKey) loadDbs();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [step, srcKey]);

  const destReady = eff ? (dstMode === 'existing' ? !!eff.destination.profile : (eff.destination.brokers ?? []).length > 0) : false;
  const loadTopics = useCallback(
    async (force = false) => {
      if (!eff || !destReady) return;
      if (!force && topicsKey === dstConnKey) return;
      setTopicsKey(dstConnKey);
      setTopicsLoading(true);
      setTopicsError('');
      try {
        setTopics(await Catalog.Topics(eff.destination));
      } catch (e) {
        setTopics([]);
        setTopicsError((e as Error).message);
      } finally {
        setTopicsLoading(false);
      }
    },
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [dstConnKey, destReady, topicsKey],
  );
  useEffect(() => {
    if (dstMode === 'existing' && eff?.destination.profile) loadTopics();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [dstMode, eff?.destination.profile]);

  if (loadError) return <Alert type="error" showIcon message={loadError} />;
  if (!spec || !eff) return <Spin />;

  const markAttempted = (s: number) =>
    setAttempted((a) => {
      const n = a.slice();
      for (let i = 0; i <= Math.min(s, 2); i++) n[i] = true;
      return n;
    });
  const blocking = (upTo: number) => errors.filter((e) => stepOf(e.path) <= upTo);

  const profileToTest = (kind: 'mysql' | 'kafka'): Profile => {
    if (kind === 'mysql') {
      if (srcMode === 'existing') {
        const p = mysqlProfiles.find((x) => x.name === eff.source.profile);
        if (p) return p;
      }
      const { profile: _p, ...m } = eff.source;
      void _p;
      return { id: 0, name: eff.name || 'source', kind: 'mysql', mysql: m, hasPassword: false };
    }
    if (dstMode === 'existing') {
      const p = kafkaProfiles.find((x) => x.name === eff.destination.profile);
      if (p) return p;
    }
    const d = eff.destination;
    return {
      id: 0,
      name: eff.name || 'destination',
      kind: 'kafka',
      kafka: { brokers: d.brokers ?? [], kafkaVersion: d.kafkaVersion, sasl: d.sasl, tls: d.tls },
      hasPassword: false,
    };
  };

  const testAndProceed = async () => {
    markAttempted(0);
    if (blocking(0).length) {
      message.error(t('wizard.fixErrors'));
      return;
    }
    setTesting(true);
    setTests({ source: null, dest: null });
    const runTest = (p: Profile) =>
      Connections.Test(p).catch((e: Error) => ({ ok: false, message: e.message, details: [] }) as TestResult);
    const [s, d] = await Promise.all([runTest(profileToTest('mysql')), runTest(profileToTest('kafka'))]);
    setTests({ source: s, dest: d });
    setTesting(false);
    if (s.ok && d.ok) {
      setStep(1);
      loadTopics();
    }
  };

  const goAdvanced = () => {
    markAttempted(1);
    if (blocking(1).length) {
      message.error(t('wizard.fixErrors'));
      return;
    }
    setStep(2);
  };

  const saveAndPrecheck = async () => {
    markAttempted(2);
    const errs = blocking(2);
    if (errs.length) {
      const first = Math.min(...errs.map((e) => stepOf(e.path)));
      message.error(first < 2 ? t('wizard.fixErrorsInStep', { n: first + 1 }) : t('wizard.fixErrors'));
      return;
    }
    setSaving(true);
    setSaveErrors(null);
    try {
      const summary = savedId ? await Tasks.Update(savedId, eff) : await Tasks.Create(eff);
      setSavedId(summary.id);
      setPrecheckOk(false);
      setStep(3);
    } catch (e) {
      const text = (e as Error).message;
      const fe = parseFieldErrors(text);
      setSaveErrors({ key: effKey, errors: fe, text });
      markAttempted(2);
    } finally {
      setSaving(false);
    }
  };

  const start = async () => {
    if (!savedId) return;
    setStarting(true);
    try {
      await Tasks.Start(savedId);
      message.success(t('msg.started', { name: eff.name }));
      props.go('tasks/' + savedId);
    } catch (e) {
      message.error((e as Error).message);
    } finally {
      setStarting(false);
    }
  };

  const choiceRadio = (kind: ChoiceKind, path: string, label: ReactNode, vertical = false, testId?: string, extra?: ReactNode) => (
    <Field label={label} path={path} errors={errors} show={shown(path)} extra={extra}>
      <Radio.Group
        value={getIn(spec, path) as string}
        onChange={(e) => set(path, e.target.value)}
        {...tid(testId ?? 'wizard-' + kind)}
        style={vertical ? { display: 'flex', flexDirection: 'column', gap: 6 } : undefined}
      >
        {opts[kind].map((c) => (
          <Radio key={c.value} value={c.value} {...tid(`${testId ?? 'wizard-' + kind}-${c.value}`)}>
            {choiceLabel(lang, kind, c)}
          </Radio>
        ))}
      </Radio.Group>
    </Field>
  );

  const stepSummary = (s: number) => {
    const errs = stepErrors(s);
    if (!attempted[s] || !errs.length) return null;
    return (
      <Alert
        type="error"
        showIcon
        style={{ marginTop: 12 }}
        message={t('wizard.problems', { n: errs.length })}
        description={<ErrorList errors={errs} testId={'wizard-errors-' + (s + 1)} />}
      />
    );
  };

  const profileSelect = (kind: 'mysql' | 'kafka') => {
    const list = kind === 'mysql' ? mysqlProfiles : kafkaProfiles;
    const path = kind === 'mysql' ? '$.source.profile' : '$.destination.profile';
    const value = (getIn(spec, path) as string) || undefined;
    return (
      <Field
        label={t('wizard.selectExisting')}
        path={path}
        paths={[kind === 'mysql' ? '$.source' : '$.destination']}
        exact
        errors={errors}
        show={shown(path)}
        required
      >
        <div {...tid(kind === 'mysql' ? 'wizard-source-profile' : 'wizard-dest-profile')} data-value={value ?? ''}>
          <Select
            showSearch
            allowClear
            value={value}
            placeholder={list.length ? t('wizard.selectConnection') : t('wizard.noConnections')}
            optionFilterProp="search"
            style={{ width: '100%' }}
            onChange={(v: string | undefined) => {
              set(path, v || undefined);
              if (kind === 'kafka' && v) {
                const p = kafkaProfiles.find((x) => x.name === v);
                const k = p?.kafka;
                if (k) {
                  setSpec((s) => {
                    if (!s) return s;
                    let n = s;
                    if (!s.destination.topic && k.topic) n = setIn(n, '$.destination.topic', k.topic);
                    if (!s.destination.ddlTopic && k.ddlTopic) n = setIn(n, '$.destination.ddlTopic', k.ddlTopic);
                    if (!s.destination.schemaRegistry?.url && k.schemaRegistryUrl)
                      n = setIn(n, '$.destination.schemaRegistry.url', k.schemaRegistryUrl);
                    return n;
                  });
                }
              }
            }}
            options={list.map((p) => ({
              value: p.name,
              search: p.name + ' ' + profileAddress(p),
              label: (
                <span>
                  {p.name}{' '}
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {profileAddress(p)}
                  </Typography.Text>
                </span>
              ),
            }))}
          />
        </div>
      </Field>
    );
  };

  const modeRadio = (side: 'source' | 'dest') => {
    const value = side === 'source' ? srcMode : dstMode;
    const setMode = side === 'source' ? setSrcMode : setDstMode;
    return (
      <Form.Item label={t('wizard.connectionMode')}>
        <Radio.Group value={value} onChange={(e) => setMode(e.target.value)} optionType="button">
          <Radio.Button value="existing">
            <span {...tid(`wizard-${side}-mode-existing`)}>{t('wizard.selectExisting')}</span>
          </Radio.Button>
          <Radio.Button value="new">
            <span {...tid(`wizard-${side}-mode-new`)}>{t('wizard.newConnection')}</span>
          </Radio.Button>
        </Radio.Group>
      </Form.Item>
    );
  };

  const topicOptions = topics.map((x) => ({
    value: x.name,
    label: (
      <span>
        {x.name}{' '}
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t('wizard.partitionsN', { n: x.partitions })}
        </Typography.Text>
      </span>
    ),
  }));

  const topicInput = (path: string, testId: string, placeholder?: string) => {
    const value = (getIn(spec, path) as string) ?? '';
    return (
      <AutoComplete
        value={value}
        options={topicOptions.filter((o) => !value || o.value.toLowerCase().includes(value.toLowerCase()))}
        onChange={(v: string) => set(path, path.endsWith('ddlTopic') ? v || undefined : v)}
        onFocus={() => loadTopics()}
        style={{ width: '100%' }}
      >
        <Input type="text" placeholder={placeholder} {...tid(testId)} />
      </AutoComplete>
    );
  };

  const labelCol = { flex: '330px' };
  // Basis 0: a long row of radios wraps inside the control column instead of pushing the whole
  // control under its label.
  const wrapperCol = { flex: '1 1 0%', style: { maxWidth: 760, minWidth: 0 } };

  /* ---------------------------------------------------------------- step 1 */
  const step1 = (
    <Form layout="horizontal" labelCol={labelCol} wrapperCol={wrapperCol} labelWrap>
      <Card size="small" style={{ marginBottom: 12 }}>
        <Field label={t('wizard.taskName')} path="$.name" errors={errors} show={shown('$.name')} required>
          <Input value={spec.name} onChange={(e) => set('$.name', e.target.value)} maxLength={200} {...tid('wizard-task-name')} />
        </Field>
      </Card>
      <Row gutter={12}>
        <Col span={24}>
          <Card size="small" title={t('wizard.sourceDb')} style={{ marginBottom: 12 }} {...tid('wizard-source')}>
            <Form.Item label={t('wizard.dbType')}>
              <Tag>MySQL</Tag>
            </Form.Item>
            {modeRadio('source')}
            {srcMode === 'existing' ? profileSelect('mysql') : <MySQLFields b={b} prefix="$.source" testPrefix="wizard-source" />}
            <TestResultView result={tests.source} testId="wizard-test-source" />
          </Card>
        </Col>
        <Col span={24}>
          <Card size="small" title={t('wizard.destDb')} style={{ marginBottom: 12 }} {...tid('wizard-dest')}>
            <Form.Item label={t('wizard.dbType')}>
              <Tag>Kafka</Tag>
            </Form.Item>
            {modeRadio('dest')}
            {dstMode === 'existing' ? profileSelect('kafka') : <KafkaFields b={b} prefix="$.destination" testPrefix="wizard-dest" />}
            <Field
              label={t('wizard.topic')}
              path="$.destination.topic"
              errors={errors}
              show={shown('$.destination.topic')}
              required
              extra={
                <Space size={4} wrap>
                  <span>{t('wizard.topicHint')}</span>
                  <Button
                    type="link"
                    size="small"
                    icon={<ReloadOutlined />}
                    loading={topicsLoading}
                    disabled={!destReady}
                    onClick={() => loadTopics(true)}
                    {...tid('wizard-topics-refresh')}
                  >
                    {t('wizard.loadTopics')}
                  </Button>
                  {topicsError && <Typography.Text type="danger">{topicsError}</Typography.Text>}
                </Space>
              }
            >
              {topicInput('$.destination.topic', 'wizard-topic')}
            </Field>
            <Field
              label={t('wizard.ddlTopic')}
              path="$.destination.ddlTopic"
              errors={errors}
              show={shown('$.destination.ddlTopic')}
              extra={t('wizard.ddlTopicHint')}
            >
              {topicInput('$.destination.ddlTopic', 'wizard-ddl-topic')}
            </Field>
            <Field
              label={t('wizard.schemaRegistry')}
              path="$.destination.schemaRegistry.enabled"
              errors={errors}
              show={shown('$.destination.schemaRegistry')}
            >
              <Radio.Group
                value={!!spec.destination.schemaRegistry?.enabled}
                onChange={(e) => set('$.destination.schemaRegistry.enabled', e.target.value || undefined)}
                {...tid('wizard-registry')}
              >
                <Radio value={false}>{t('common.no')}</Radio>
                <Radio value={true}>{t('common.yes')}</Radio>
              </Radio.Group>
            </Field>
            {spec.destination.schemaRegistry?.enabled && (
              <Field
                label={t('wizard.schemaRegistryUrl')}
                path="$.destination.schemaRegistry.url"
                errors={errors}
                show={shown('$.destination.schemaRegistry')}
                required
              >
                <Input
                  value={spec.destination.schemaRegistry?.url ?? ''}
                  placeholder="http://127.0.0.1:8081"
                  onChange={(e) => set('$.destination.schemaRegistry.url', e.target.value || undefined)}
                  {...tid('wizard-registry-url')}
                />
              </Field>
            )}
            <TestResultView result={tests.dest} testId="wizard-test-dest" />
          </Card>
        </Col>
      </Row>
      {stepSummary(0)}
    </Form>
  );

  /* ---------------------------------------------------------------- step 2 */
  const mt = spec.migrationTypes;
  const step2 = (
    <Form layout="horizontal" labelCol={labelCol} wrapperCol={wrapperCol} labelWrap>
      <Card size="small" style={{ marginBottom: 12 }}>
        <Field
          label={t('wizard.migrationTypes')}
          path="$.migrationTypes"
          errors={errors}
          show={shown('$.migrationTypes')}
          extra={!mt.incremental ? t('wizard.fullOnlyNote') : undefined}
        >
          <Space wrap>
            <Tooltip title={t('wizard.schemaNotSupported')}>
              <span {...tid('wizard-type-schema')}>
                <Checkbox checked={false} disabled>
                  {t('wizard.schemaMigration')}
                </Checkbox>
              </span>
            </Tooltip>
            <span {...tid('wizard-type-full')}>
              <Checkbox checked={mt.full} onChange={(e) => set('$.migrationTypes.full', e.target.checked)}>
                {t('wizard.fullMigration')}
              </Checkbox>
            </span>
            <span {...tid('wizard-type-incremental')}>
              <Checkbox checked={mt.incremental} onChange={(e) => set('$.migrationTypes.incremental', e.target.checked)}>
                {t('wizard.incrementalMigration')}
              </Checkbox>
            </span>
          </Space>
        </Field>
        {choiceRadio(
          'conflictModes',
          '$.conflictMode',
          t('wizard.conflictMode'),
          false,
          'wizard-conflict-mode',
          spec.conflictMode === 'ignore-and-proceed' ? t('wizard.ignoreErrorsWarning') : undefined,
        )}
        {choiceRadio('formats', '$.format', t('wizard.format'), false, 'wizard-format')}
        {choiceRadio('compressions', '$.compression', t('wizard.compression'), false, 'wizard-compression')}
        {choiceRadio('partitionPolicies', '$.partitionPolicy', t('wizard.partitionPolicy'), true, 'wizard-partition-policy')}
        {choiceRadio('acks', '$.acks', t('wizard.acks'), false, 'wizard-acks')}
        {choiceRadio('capitalizations', '$.capitalization', t('wizard.capitalization'), true, 'wizard-capitalization')}
      </Card>
      <Card size="small" title={t('wizard.objects')}>
        <ObjectsTransfer
          spec={eff}
          source={eff.source}
          dbs={dbs}
          loading={dbsLoading}
          loadError={dbsError}
          reload={loadDbs}
          errors={errors}
          showErrors={attempted[1] || touched.shown('$.objects')}
          onChange={(objects: Obj[]) => set('$.objects', objects)}
        />
      </Card>
      {stepSummary(1)}
    </Form>
  );

  /* ---------------------------------------------------------------- step 3 */
  const a = spec.advanced;
  const numField = (path: string, label: ReactNode, testId: string, extra?: ReactNode, addon?: string, step = 1) => (
    <Field label={label} path={path} errors={errors} show={shown(path)} extra={extra}>
      <InputNumber
        value={(getIn(spec, path) as number | undefined) ?? 0}
        step={step}
        precision={step < 1 ? 2 : 0}
        style={{ width: 200 }}
        addonAfter={addon}
        onChange={(v) => set(path, num(v))}
        {...tid(testId)}
      />
    </Field>
  );
  const yesNo = (path: string, label: ReactNode, testId: string, value: boolean, onChange: (v: boolean) => void, extra?: ReactNode) => (
    <Field label={label} path={path} errors={errors} show={shown(path)} extra={extra}>
      <Radio.Group value={value} onChange={(e) => onChange(e.target.value)} {...tid(testId)}>
        <Radio value={false} {...tid(testId + '-no')}>
          {t('common.no')}
        </Radio>
        <Radio value={true} {...tid(testId + '-yes')}>
          {t('common.yes')}
        </Radio>
      </Radio.Group>
    </Field>
  );
  const step3 = (
    <Form layout="horizontal" labelCol={labelCol} wrapperCol={wrapperCol} labelWrap>
      <Card size="small" style={{ marginBottom: 12 }}>
        <Form.Item label={t('adv.dedicated')} extra={t('adv.dedicatedHint')}>
          <Select disabled value="local" style={{ width: 260 }} options={[{ value: 'local', label: t('adv.dedicatedLocal') }]} {...tid('adv-dedicated')} />
        </Form.Item>
        {numField('$.advanced.retryConnectionMinutes', t('adv.retryConn'), 'adv-retry-conn', t('adv.retryConnHint'), t('unit.minutes'))}
        {numField('$.advanced.retryOtherMinutes', t('adv.retryOther'), 'adv-retry-other', t('adv.retryOtherHint'), t('unit.minutes'))}
        {mt.full ? (
          <>
            {yesNo('$.advanced.fullThrottle.enabled', t('adv.fullThrottle'), 'adv-full-throttle', !!a.fullThrottle.enabled, (v) =>
              set('$.advanced.fullThrottle.enabled', v),
            )}
            {a.fullThrottle.enabled && (
              <>
                <Field errors={errors} path="$.advanced.fullThrottle" exact show={shown('$.advanced.fullThrottle')}>
                  <span />
                </Field>
                {numField('$.advanced.fullThrottle.qps', t('adv.qps'), 'adv-full-qps', t('adv.zeroUnlimited'))}
                {numField('$.advanced.fullThrottle.rps', t('adv.fullRps'), 'adv-full-rps', t('adv.zeroUnlimited'))}
                {numField('$.advanced.fullThrottle.mbps', t('adv.fullMbps'), 'adv-full-mbps', t('adv.zeroUnlimited'), 'MB/s', 0.1)}
              </>
            )}
          </>
        ) : (
          a.fullThrottle.enabled && (
            <Field errors={errors} path="$.advanced.fullThrottle.enabled" show label={t('adv.fullThrottle')}>
              <Button size="small" onClick={() => set('$.advanced.fullThrottle.enabled', false)}>
                {t('adv.turnOff')}
              </Button>
            </Field>
          )
        )}
        {mt.incremental ? (
          <>
            {yesNo(
              '$.advanced.incrementalThrottle.enabled',
              t('adv.incThrottle'),
              'adv-inc-throttle',
              !!a.incrementalThrottle.enabled,
              (v) => set('$.advanced.incrementalThrottle.enabled', v),
            )}
            {a.incrementalThrottle.enabled && (
              <>
                <Field errors={errors} path="$.advanced.incrementalThrottle" exact show={shown('$.advanced.incrementalThrottle')}>
                  <span />
                </Field>
                {numField('$.advanced.incrementalThrottle.rps', t('adv.incRps'), 'adv-inc-rps', t('adv.zeroUnlimited'))}
                {numField('$.advanced.incrementalThrottle.mbps', t('adv.incMbps'), 'adv-inc-mbps', t('adv.zeroUnlimited'), 'MB/s', 0.1)}
              </>
            )}
          </>
        ) : (
          a.incrementalThrottle.enabled && (
            <Field errors={errors} path="$.advanced.incrementalThrottle.enabled" show label={t('adv.incThrottle')}>
              <Button size="small" onClick={() => set('$.advanced.incrementalThrottle.enabled', false)}>
                {t('adv.turnOff')}
              </Button>
            </Field>
          )
        )}
        {yesNo('$.advanced.heartbeat', t('adv.heartbeat'), 'adv-heartbeat', !a.heartbeat, (v) => set('$.advanced.heartbeat', !v), t('adv.heartbeatHint'))}
        <Field label={t('adv.envTag')} path="$.advanced.environmentTag" errors={errors} show={shown('$.advanced.environmentTag')}>
          <AutoComplete
            value={a.environmentTag ?? ''}
            allowClear
            style={{ width: 260 }}
            options={ENV_TAGS.map((v) => ({ value: v, label: t(('env.' + v) as 'env.dev') }))}
            onChange={(v: string) => set('$.advanced.environmentTag', v || undefined)}
          >
            <Input type="text" placeholder={t('adv.envNone')} {...tid('adv-env-tag')} />
          </AutoComplete>
        </Field>
        <Form.Item label={t('adv.etl')} extra={t('adv.etlHint')}>
          <Radio.Group disabled value={false} {...tid('adv-etl')}>
            <Radio value={false}>{t('common.no')}</Radio>
            <Radio value={true}>{t('common.yes')}</Radio>
          </Radio.Group>
        </Form.Item>
        {yesNo('$.advanced.alerting.enabled', t('adv.alerting'), 'adv-alerting', !!a.alerting.enabled, (v) =>
          set('$.advanced.alerting.enabled', v),
        )}
        {a.alerting.enabled && (
          <>
            <Form.Item label={t('adv.alertOn')}>
              <Space direction="vertical">
                <span {...tid('adv-alert-failure')}>
                  <Checkbox checked={!!a.alerting.onFailure} onChange={(e) => set('$.advanced.alerting.onFailure', e.target.checked || undefined)}>
                    {t('adv.alertFailure')}
                  </Checkbox>
                </span>
                <span {...tid('adv-alert-desktop')}>
                  <Checkbox
                    checked={!!a.alerting.desktop}
                    onChange={(e) => {
                      set('$.advanced.alerting.desktop', e.target.checked || undefined);
                      // Ask now, on the user's click: browsers ask only from a user gesture.
                      if (e.target.checked) requestNotificationPermission().then(setNotifyPermission);
                    }}
                  >
                    {t('adv.alertDesktop')}
                  </Checkbox>
                </span>
                {a.alerting.desktop && notifyPermission === 'denied' && (
                  <Typography.Text type="secondary" style={{ fontSize: 12 }} {...tid('adv-alert-desktop-denied')}>
                    {t('adv.alertDesktopDenied')}
                  </Typography.Text>
                )}
              </Space>
            </Form.Item>
            {numField('$.advanced.alerting.latencySeconds', t('adv.alertLatency'), 'adv-alert-latency', t('adv.alertLatencyHint'), t('unit.seconds'))}
            <Field label={t('adv.webhook')} path="$.advanced.alerting.webhook" errors={errors} show={shown('$.advanced.alerting.webhook')}>
              <Input
                value={a.alerting.webhook ?? ''}
                placeholder="https://example.com/hook"
                onChange={(e) => set('$.advanced.alerting.webhook', e.target.value || undefined)}
                {...tid('adv-webhook')}
              />
            </Field>
          </>
        )}
      </Card>
      <Card size="small" title={t('adv.tributary')} style={{ marginBottom: 12 }}>
        {numField('$.advanced.fullWorkers', t('adv.workers'), 'adv-workers', t('adv.workersHint'))}
        {numField('$.advanced.chunkRows', t('adv.chunkRows'), 'adv-chunk-rows', t('adv.chunkRowsHint'))}
      </Card>
      <Card size="small" title={t('adv.formatOptions')}>
        {spec.format !== 'canal-json' && (
          <Alert type="info" showIcon message={t('adv.formatOptionsCanalOnly')} style={{ marginBottom: 12 }} />
        )}
        <Field label={t('adv.oldFullImage')} path="$.formatOptions.canalOldFullImage" errors={errors} extra={t('adv.oldFullImageHint')}>
          <Switch
            checked={!!spec.formatOptions.canalOldFullImage}
            onChange={(v) => set('$.formatOptions.canalOldFullImage', v || undefined)}
            {...tid('adv-old-full-image')}
          />
        </Field>
        <Field label={t('adv.sqlType')} path="$.formatOptions.canalSqlType" errors={errors} show={shown('$.formatOptions')}>
          <Radio.Group
            value={spec.formatOptions.canalSqlType || 'jdbc'}
            onChange={(e) => set('$.formatOptions.canalSqlType', e.target.value)}
            {...tid('adv-sql-type')}
          >
            <Radio value="jdbc">{t('adv.sqlTypeJdbc')}</Radio>
            <Radio value="dts">{t('adv.sqlTypeDts')}</Radio>
          </Radio.Group>
        </Field>
        <Field label={t('adv.binaryEncoding')} path="$.formatOptions.binaryEncoding" errors={errors} show={shown('$.formatOptions')}>
          <Radio.Group
            value={spec.formatOptions.binaryEncoding || 'iso-8859-1'}
            onChange={(e) => set('$.formatOptions.binaryEncoding', e.target.value)}
            {...tid('adv-binary-encoding')}
          >
            <Radio value="iso-8859-1">ISO-8859-1</Radio>
            <Radio value="base64">Base64</Radio>
          </Radio.Group>
        </Field>
      </Card>
      {stepSummary(2)}
      {saveErrors && saveErrors.key === effKey && (
        <Alert type="error" showIcon style={{ marginTop: 12 }} message={t('wizard.saveFailed')} description={saveErrors.text} {...tid('wizard-save-error')} />
      )}
    </Form>
  );

  /* ---------------------------------------------------------------- step 4 */
  const step4 = savedId ? <PrecheckRunner key={savedId} taskId={savedId} onPassed={setPrecheckOk} /> : null;

  /* ---------------------------------------------------------------- step 5 */
  const th = (x: { enabled: boolean; qps?: number; rps?: number; mbps?: number }, full: boolean) =>
    x.enabled
      ? [full && x.qps ? `QPS ${x.qps}` : '', x.rps ? `RPS ${x.rps}` : '', x.mbps ? `${x.mbps} MB/s` : ''].filter(Boolean).join(', ') ||
        t('adv.noLimit')
      : t('adv.off');
  const types = [mt.full ? t('wizard.fullMigration') : '', mt.incremental ? t('wizard.incrementalMigration') : '']
    .filter(Boolean)
    .join(' + ');
  const step5 = (
    <div {...tid('wizard-summary')}>
      <Descriptions bordered size="small" column={{ xs: 1, md: 2 }} style={{ marginBottom: 12 }}>
        <Descriptions.Item label={t('wizard.taskName')}>{eff.name}</Descriptions.Item>
        <Descriptions.Item label={t('wizard.migrationTypes')}>{types}</Descriptions.Item>
        <Descriptions.Item label={t('wizard.sourceDb')}>
          {eff.source.profile ? (
            <>
              {eff.source.profile}{' '}
              <Typography.Text type="secondary">({profileAddress(profileToTest('mysql'))})</Typography.Text>
            </>
          ) : (
            `${eff.source.user ?? ''}@${eff.source.host ?? ''}:${eff.source.port ?? ''}`
          )}
        </Descriptions.Item>
        <Descriptions.Item label={t('wizard.destDb')}>
          {eff.destination.profile ? (
            <>
              {eff.destination.profile}{' '}
              <Typography.Text type="secondary">({profileAddress(profileToTest('kafka'))})</Typography.Text>
            </>
          ) : (
            (eff.destination.brokers ?? []).join(', ')
          )}
        </Descriptions.Item>
        <Descriptions.Item label={t('wizard.topic')}>{eff.destination.topic}</Descriptions.Item>
        <Descriptions.Item label={t('wizard.ddlTopic')}>{eff.destination.ddlTopic || eff.destination.topic}</Descriptions.Item>
        <Descriptions.Item label={t('wizard.format')}>{labelOf(opts, lang, 'formats', eff.format)}</Descriptions.Item>
        <Descriptions.Item label={t('wizard.compression')}>{labelOf(opts, lang, 'compressions', eff.compression)}</Descriptions.Item>
        <Descriptions.Item label={t('wizard.partitionPolicy')}>
          {labelOf(opts, lang, 'partitionPolicies', eff.partitionPolicy)}
        </Descriptions.Item>
        <Descriptions.Item label={t('wizard.acks')}>{labelOf(opts, lang, 'acks', eff.acks)}</Descriptions.Item>
        <Descriptions.Item label={t('adv.fullThrottle')}>{mt.full ? th(eff.advanced.fullThrottle, true) : '-'}</Descriptions.Item>
        <Descriptions.Item label={t('adv.incThrottle')}>
          {mt.incremental ? th(eff.advanced.incrementalThrottle, false) : '-'}
        </Descriptions.Item>
        <Descriptions.Item label={t('wizard.objectsCount')}>
          <span {...tid('summary-objects-count')}>{eff.objects.length}</span>
        </Descriptions.Item>
        <Descriptions.Item label={t('adv.envTag')}>{eff.advanced.environmentTag || '-'}</Descriptions.Item>
      </Descriptions>
      <Table<Obj>
        size="small"
        rowKey={(o) => o.database + '.' + o.table}
        pagination={eff.objects.length > 10 ? { pageSize: 10 } : false}
        dataSource={eff.objects}
        columns={[
          {
            title: t('wizard.sourceTable'),
            render: (_, o) => (
              <Space>
                {o.database}.{o.table}
                {isEdited(o) && <Tag color="blue">{t('objects.edited')}</Tag>}
              </Space>
            ),
          },
          { title: t('wizard.destTopic'), render: (_, o) => o.topic || eff.destination.topic },
          { title: t('edit.partitions'), render: (_, o) => o.partitions || '-' },
          { title: t('edit.partitionKey'), render: (_, o) => (o.partitionKey ?? []).join(', ') || '-' },
          { title: t('edit.filter'), render: (_, o) => o.filter || '-' },
        ]}
      />
    </div>
  );

  const stepsItems = [
    { title: t('wizard.step1') },
    { title: t('wizard.step2') },
    { title: t('wizard.step3') },
    { title: t('wizard.step4') },
    { title: t('wizard.step5') },
  ];

  const footer = (
    <Card size="small" className="tb-wizard-footer" styles={{ body: { display: 'flex', gap: 8, justifyContent: 'flex-end', flexWrap: 'wrap' } }}>
      <Button onClick={() => props.go('tasks')} {...tid('wizard-cancel')}>
        {t('common.cancel')}
      </Button>
      {step > 0 && (
        <Button onClick={() => setStep(step - 1)} {...tid('wizard-prev')}>
          {t('wizard.previous')}
        </Button>
      )}
      {step === 0 && (
        <Button type="primary" loading={testing} onClick={testAndProceed} {...tid('wizard-test-proceed')}>
          {t('wizard.testAndProceed')}
        </Button>
      )}
      {step === 1 && (
        <Button type="primary" onClick={goAdvanced} {...tid('wizard-next-advanced')}>
          {t('wizard.nextAdvanced')}
        </Button>
      )}
      {step === 2 && (
        <>
          <Button
            onClick={async () => {
              try {
                setPreview(await Tasks.Preview(eff));
              } catch (e) {
                message.error((e as Error).message);
              }
            }}
            {...tid('wizard-preview')}
          >
            {t('wizard.preview')}
          </Button>
          <Button type="primary" loading={saving} onClick={saveAndPrecheck} {...tid('wizard-save-precheck')}>
            {t('wizard.savePrecheck')}
          </Button>
        </>
      )}
      {step === 3 && (
        <Tooltip title={precheckOk ? undefined : t('wizard.precheckMustPass')}>
          <Button type="primary" disabled={!precheckOk} onClick={() => setStep(4)} {...tid('wizard-next-start')}>
            {t('wizard.nextStart')}
          </Button>
        </Tooltip>
      )}
      {step === 4 && (
        <Button type="primary" loading={starting} onClick={start} {...tid('wizard-start')}>
          {t('action.start')}
        </Button>
      )}
    </Card>
  );

  return (
    <div {...tid('wizard')} data-step={step + 1}>
      <Card
        title={props.taskId ? t('wizard.editTitle', { name: spec.name }) : t('wizard.title')}
        style={{ marginBottom: 12 }}
        styles={{ body: { paddingBottom: 8 } }}
      >
        <Steps current={step} items={stepsItems} size="small" labelPlacement="vertical" {...tid('wizard-steps')} />
      </Card>
      <div style={{ minHeight: 300 }}>
        {step === 0 && step1}
        {step === 1 && step2}
        {step === 2 && step3}
        {step === 3 && <Card size="small">{step4}</Card>}
        {step === 4 && <Card size="small">{step5}</Card>}
      </div>
      {footer}
      <Modal
        open={preview !== null}
        title={t('wizard.previewTitle')}
        onCancel={() => setPreview(null)}
        width={760}
        footer={
          <Button type="primary" onClick={() => setPreview(null)} {...tid('preview-close')}>
            {t('common.close')}
          </Button>
        }
      >
        <pre className="tb-mono" style={{ maxHeight: '60vh', overflow: 'auto' }} {...tid('preview-text')}>
          {preview}
        </pre>
      </Modal>
    </div>
  );
}

