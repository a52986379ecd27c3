import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Descriptions,
  Empty,
  Form,
  InputNumber,
  Modal,
  Progress,
  Radio,
  Row,
  Segmented,
  Space,
  Spin,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import { ArrowLeftOutlined, DashboardOutlined, ReloadOutlined } from '@ant-design/icons';
import {
  on,
  Precheck,
  Tasks,
  type EventRecord,
  type FieldError,
  type PrecheckReport,
  type Progress as ProgressT,
  type Sample,
  type TableProgress,
  type TaskDetail,
  type Throttle,
} from '../api';
import { useI18n, type Key } from '../i18n';
import { labelOf, useDark, useOptions } from '../options';
import TaskActions from '../components/TaskActions';
import LineChart, { type Point } from '../components/LineChart';
import { precheckPassed, PrecheckTable, ReportExportButtons } from '../components/Precheck';
import { ACTIVE_STATES, Field, fmtEta, fmtLatency, fmtNum, fmtTime, StateTag, stateAfterProgress, tid } from '../util';
import { validateThrottle } from '../validate';
import { fmtPercent, fullPercent } from './TaskList';

const MAX_POINTS = 900;

interface Series {
  rows: Point[];
  mb: Point[];
  latency: Point[];
}

function fromSamples(samples: Sample[]): Series {
  const s: Series = { rows: [], mb: [], latency: [] };
  for (const x of samples) {
    const t = Date.parse(x.time);
    if (!Number.isFinite(t)) continue;
    s.rows.push({ t, v: x.rowsPerSec ?? 0 });
    s.mb.push({ t, v: x.mbPerSec ?? 0 });
    if (x.latencyMs >= 0) s.latency.push({ t, v: x.latencyMs / 1000 });
  }
  return s;
}

/** "profile (address)" when the summary says more than the profile's name, else just one of them. */
function withProfile(profile: string | undefined, described: string): string {
  if (!profile) return described || '-';
  if (!described || described === profile || described.startsWith(profile + ' ')) return described || profile;
  return `${profile} (${described})`;
}

const tableStateColor: Record<string, string> = {
  Waiting: 'default',
  Migrating: 'processing',
  Completed: 'success',
  Failed: 'error',
};

export default function TaskDetailPage({ id, go }: { id: number; go: (to: string) => void }) {
  const { t, has, lang } = useI18n();
  const opts = useOptions();
  const dark = useDark();
  const [task, setTask] = useState<TaskDetail | null>(null);
  const [error, setError] = useState('');
  const [events, setEvents] = useState<EventRecord[]>([]);
  const [eventsError, setEventsError] = useState('');
  const [levelFilter, setLevelFilter] = useState<string>('all');
  const [series, setSeries] = useState<Series>({ rows: [], mb: [], latency: [] });
  const [report, setReport] = useState<PrecheckReport | null>(null);
  const [throttleOpen, setThrottleOpen] = useState(false);
  const lastSample = useRef(0);

  const load = useCallback(async () => {
    try {
      const d = await Tasks.Get(id);
      setTask((prev) => ({ ...d, progress: d.progress ?? prev?.progress ?? null }));
      setError('');
    } catch (e) {
      setError((e as Error).message);
    }
  }, [id]);

  const loadEvents = useCallback(async () => {
    try {
      setEvents(await Tasks.Events(id, 500));
      setEventsError('');
    } catch (e) {
      setEventsError((e as Error).message);
    }
  }, [id]);

  const loadReport = useCallback(async () => {
    try {
      setReport(await Precheck.Report(id));
    } catch {
      setReport(null);
    }
  }, [id]);

  useEffect(() => {
    load();
    loadEvents();
    loadReport();
    Tasks.Samples(id)
      .then((s) => setSeries(fromSamples(s)))
      .catch(() => {});
    const offs = [
      on('task:update', (d) => {
        if (!d || d.id !== id) return;
        if (d.deleted) {
          go('tasks');
          return;
        }
        setTask((prev) => (prev ? { ...prev, ...d, spec: prev.spec, progress: d.progress ?? prev.progress } : prev));
        if (d.state !== 'Prechecking') loadReport();
      }),
      on('task:progress', (p: ProgressT) => {
        if (!p || p.taskId !== id) return;
        setTask((prev) => (prev ? { ...prev, progress: p, state: stateAfterProgress(prev.state, p) } : prev));
        const now = Date.now();
        if (now - lastSample.current >= 1000) {
          lastSample.current = now;
          const rps = (p.rowsPerSec ?? 0) + (p.incrementalRowsPerSec ?? 0);
          setSeries((s) => ({
            rows: [...s.rows, { t: now, v: rps ?? 0 }].slice(-MAX_POINTS),
            mb: [...s.mb, { t: now, v: p.mbPerSec ?? 0 }].slice(-MAX_POINTS),
            latency: p.latencyMs >= 0 ? [...s.latency, { t: now, v: p.latencyMs / 1000 }].slice(-MAX_POINTS) : s.latency,
          }));
        }
      }),
      on('task:event', (ev) => {
        if (!ev || ev.taskId !== id) return;
        setEvents((prev) => (prev.some((x) => x.id === ev.id && ev.id) ? prev : [ev, ...prev].slice(0, 1000)));
      }),
    ];
    return () => offs.forEach((f) => f());
  }, [id, go, load, loadEvents, loadReport]);

  // A slow safety net in case the event stream drops while the task runs.
  const active = !!task && ACTIVE_STATES.includes(task.state);
  useEffect(() => {
    if (!active) return;
    const h = setInterval(load, 5000);
    return () => clearInterval(h);
  }, [active, load]);

  const sortedEvents = useMemo(() => {
    const list = levelFilter === 'all' ? events : events.filter((e) => e.level === levelFilter);
    return [...list].sort((a, b) => (b.time > a.time ? 1 : b.time < a.time ? -1 : b.id - a.id));
  }, [events, levelFilter]);

  if (error && !task)
    return (
      <Alert
        type="error"
        showIcon
        message={error}
        action={
          <Button onClick={() => go('tasks')} icon={<ArrowLeftOutlined />}>
            {t('nav.tasks')}
          </Button>
        }
      />
    );
  if (!task) return <Spin />;

  const spec = task.spec;
  const p = task.progress;
  const percent = fullPercent(task);
  const running = task.state === 'Running' || task.state === 'Retrying';
  const tables: TableProgress[] = p?.tables ?? [];
  const types = [
    task.migrationTypes?.full ? t('wizard.fullMigration') : '',
    task.migrationTypes?.incremental ? t('wizard.incrementalMigration') : '',
  ]
    .filter(Boolean)
    .join(' + ');

  return (
    <div {...tid('task-detail')} data-task-id={task.id}>
      <Card
        style={{ marginBottom: 12 }}
        title={
          <Space wrap>
            <Button type="text" icon={<ArrowLeftOutlined />} onClick={() => go('tasks')} {...tid('detail-back')} />
            <span {...tid('detail-name')}>{task.name}</span>
            <StateTag task={task} testId="detail-state" />
          </Space>
        }
        extra={
          <Space wrap>
            <Button
              icon={<DashboardOutlined />}
              onClick={() => setThrottleOpen(true)}
              disabled={!['Running', 'Retrying', 'Paused', 'NotStarted', 'Stopped'].includes(task.state)}
              {...tid('detail-throttle')}
            >
              {t('detail.modifyRate')}
            </Button>
            <Button icon={<ReloadOutlined />} onClick={() => { load(); loadEvents(); loadReport(); }} {...tid('detail-reload')}>
              {t('common.refresh')}
            </Button>
          </Space>
        }
      >
        <div style={{ marginBottom: 12 }}>
          <TaskActions
            task={task}
            go={go}
            buttons
            actions={['edit', 'precheck', 'start', 'pause', 'resume', 'stop', 'clone', 'export', 'delete']}
            onChanged={load}
            onDeleted={() => go('tasks')}
          />
        </div>
        {task.lastError && (
          <Alert type="error" showIcon message={t('detail.lastError')} description={task.lastError} style={{ marginBottom: 12 }} {...tid('detail-last-error')} />
        )}
        {p?.retryReason && task.state === 'Retrying' && (
          <Alert type="warning" showIcon message={t('detail.retrying')} description={p.retryReason} style={{ marginBottom: 12 }} />
        )}
        <Descriptions title={t('detail.basic')} bordered size="small" column={{ xs: 1, md: 2, xl: 3 }}>
          <Descriptions.Item label={t('tasks.col.name')}>{task.name}</Descriptions.Item>
          <Descriptions.Item label={t('tasks.col.state')}>
            <StateTag task={task} />
          </Descriptions.Item>
          <Descriptions.Item label={t('detail.id')}>{task.id}</Descriptions.Item>
          <Descriptions.Item label={t('wizard.sourceDb')}>
            {withProfile(spec?.source?.profile, task.source)}
          </Descriptions.Item>
          <Descriptions.Item label={t('wizard.destDb')}>
            {withProfile(spec?.destination?.profile, task.destination)}
          </Descriptions.Item>
          <Descriptions.Item label={t('wizard.topic')}>{spec?.destination?.topic || '-'}</Descriptions.Item>
          <Descriptions.Item label={t('wizard.format')}>{spec ? labelOf(opts, lang, 'formats', spec.format) : '-'}</Descriptions.Item>
          <Descriptions.Item label={t('wizard.migrationTypes')}>{types || '-'}</Descriptions.Item>
          <Descriptions.Item label={t('tasks.col.created')}>{fmtTime(task.created)}</Descriptions.Item>
          <Descriptions.Item label={t('tasks.col.env')}>
            {task.environmentTag ? (
              <Tag color="blue">{has(('env.' + task.environmentTag) as Key) ? t(('env.' + task.environmentTag) as Key) : task.environmentTag}</Tag>
            ) : (
              '-'
            )}
          </Descriptions.Item>
          <Descriptions.Item label={t('wizard.objectsCount')}>{spec?.objects?.length ?? '-'}</Descriptions.Item>
          <Descriptions.Item label={t('detail.lastError')}>
            {task.lastError ? <Typography.Text type="danger">{task.lastError}</Typography.Text> : '-'}
          </Descriptions.Item>
        </Descriptions>
      </Card>

      {task.migrationTypes?.full && (
        <Card title={t('detail.full')} style={{ marginBottom: 12 }} {...tid('detail-full')}>
          <Row gutter={16} style={{ marginBottom: 12 }} align="middle">
            <Col xs={24} md={10}>
              <div {...tid('detail-percent')} data-percent={percent ?? 0}>
                <Progress
                  percent={percent ?? 0}
                  status={task.state === 'Failed' ? 'exception' : percent === 100 ? 'success' : task.state === 'Running' ? 'active' : 'normal'}
                  format={(v) => fmtPercent(v ?? 0)}
                />
              </div>
            </Col>
            <Col xs={24} md={14}>
              <Space size="large" wrap>
                <span>
                  {t('detail.rows')}:{' '}
                  <b {...tid('detail-rows-done')} data-rows={p?.rowsDone ?? 0}>
                    {fmtNum(p?.rowsDone ?? 0)}
                  </b>{' '}
                  / {fmtNum(p?.rowsEstimated ?? 0)}
                </span>
                <span>
                  {t('detail.rowsPerSec')}: <b>{running && p?.phase === 'full' ? fmtNum(p?.rowsPerSec, 0) : '-'}</b>
                </span>
                <span>
                  MB/s: <b>{running && p?.phase === 'full' ? fmtNum(p?.mbPerSec, 2) : '-'}</b>
                </span>
              </Space>
            </Col>
          </Row>
          <Table<TableProgress>
            size="small"
            rowKey={(r) => r.database + '.' + r.table}
            dataSource={tables}
            pagination={tables.length > 20 ? { pageSize: 20 } : false}
            locale={{
              emptyText: (
                <Empty
                  image={Empty.PRESENTED_IMAGE_SIMPLE}
                  description={p?.phase === 'incremental' ? t('detail.fullDoneEarlier') : t('detail.noTables')}
                />
              ),
            }}
            onRow={(r) => ({ 'data-testid': 'table-progress-' + r.database + '.' + r.table, 'data-state': r.state }) as object}
            columns={[
              {
                title: t('detail.table'),
                render: (_, r) => (
                  <Space size={4}>
                    <span>
                      {r.database}.{r.table}
                    </span>
                    {!r.resumable && (
                      <Tooltip title={t('objects.noKeyTip')}>
                        <Tag color="warning">{t('detail.notResumable')}</Tag>
                      </Tooltip>
                    )}
                  </Space>
                ),
              },
              {
                title: t('tasks.col.progress'),
                width: 200,
                render: (_, r) => (
                  <Progress
                    percent={r.state === 'Completed' ? 100 : Math.min(100, r.percent ?? 0)}
                    size="small"
                    status={r.state === 'Failed' ? 'exception' : r.state === 'Completed' ? 'success' : 'normal'}
                    format={(v) => fmtPercent(v ?? 0)}
                  />
                ),
              },
              {
                title: t('detail.rowsDoneEst'),
                render: (_, r) => (
                  <span {...tid('rows-' + r.database + '.' + r.table)} data-rows={r.rowsDone}>
                    {fmtNum(r.rowsDone)} / {fmtNum(r.rowsEstimated)}
                  </span>
                ),
              },
              { title: t('detail.rowsPerSec'), width: 110, render: (_, r) => (r.state === 'Migrating' ? fmtNum(r.rowsPerSec) : '-') },
              { title: 'MB/s', width: 90, render: (_, r) => (r.state === 'Migrating' ? fmtNum(r.mbPerSec, 2) : '-') },
              { title: t('detail.eta'), width: 110, render: (_, r) => (r.state === 'Migrating' ? fmtEta(r.etaSeconds) : '-') },
              {
                title: t('tasks.col.state'),
                width: 120,
                render: (_, r) => (
                  <Tag color={tableStateColor[r.state] ?? 'default'}>
                    {has(('tableState.' + r.state) as Key) ? t(('tableState.' + r.state) as Key) : r.state}
                  </Tag>
                ),
              },
            ]}
          />
        </Card>
      )}

      {task.migrationTypes?.incremental && (
        <Card title={t('detail.incremental')} style={{ marginBottom: 12 }} {...tid('detail-incremental')}>
          <Descriptions bordered size="small" column={{ xs: 1, md: 3 }}>
            <Descriptions.Item label={t('tasks.col.latency')}>
              {/* Only while it runs: a paused task's last latency would read as current. */}
              <span {...tid('detail-latency')}>{running ? fmtLatency(p?.latencyMs) : '-'}</span>
            </Descriptions.Item>
            <Descriptions.Item label={t('detail.position')}>
              <Typography.Text className="tb-mono" {...tid('detail-position')}>
                {p?.position || '-'}
              </Typography.Text>
            </Descriptions.Item>
            <Descriptions.Item label={t('detail.rowsPerSec')}>
              {running && p?.phase === 'incremental' ? fmtNum(p?.incrementalRowsPerSec, 0) : '-'}
            </Descriptions.Item>
          </Descriptions>
        </Card>
      )}

      <Card title={t('detail.performance')} style={{ marginBottom: 12 }}>
        <Row gutter={12}>
          <Col xs={24} lg={8}>
            <LineChart title={t('detail.chartRows')} unit={t('unit.rowsPerSec')} points={series.rows} color="#ff6a00" dark={dark} testId="chart-rows" empty={t('detail.noData')} />
          </Col>
          <Col xs={24} lg={8}>
            <LineChart title={t('detail.chartMb')} unit="MB/s" points={series.mb} color="#1677ff" dark={dark} testId="chart-mb" empty={t('detail.noData')} />
          </Col>
          <Col xs={24} lg={8}>
            <LineChart title={t('detail.chartLatency')} unit="s" points={series.latency} color="#52c41a" dark={dark} testId="chart-latency" empty={t('detail.noData')} />
          </Col>
        </Row>
      </Card>

      <Card
        title={t('detail.events')}
        style={{ marginBottom: 12 }}
        extra={
          <Segmented
            size="small"
            value={levelFilter}
            onChange={(v) => setLevelFilter(String(v))}
            options={[
              { value: 'all', label: t('detail.levelAll') },
              { value: 'info', label: t('detail.levelInfo') },
              { value: 'warn', label: t('detail.levelWarn') },
              { value: 'error', label: t('detail.levelError') },
            ]}
          />
        }
        {...tid('detail-events')}
      >
        {eventsError && <Alert type="error" showIcon message={eventsError} style={{ marginBottom: 8 }} />}
        <Table<EventRecord>
          size="small"
          rowKey={(r) => r.id + ':' + r.time}
          dataSource={sortedEvents}
          pagination={{ pageSize: 15, hideOnSinglePage: true, size: 'small' }}
          onRow={(r) => ({ 'data-testid': 'event-row', 'data-level': r.level }) as object}
          columns={[
            { title: t('detail.time'), width: 170, render: (_, r) => fmtTime(r.time) },
            {
              title: t('detail.level'),
              width: 90,
              render: (_, r) => (
                <Tag color={r.level === 'error' ? 'error' : r.level === 'warn' ? 'warning' : 'default'}>
                  {r.level === 'error' ? t('detail.levelError') : r.level === 'warn' ? t('detail.levelWarn') : t('detail.levelInfo')}
                </Tag>
              ),
            },
            {
              title: t('detail.message'),
              render: (_, r) =>
                r.level === 'error' ? <Typography.Text type="danger">{r.message}</Typography.Text> : r.level === 'warn' ? <Typography.Text type="warning">{r.message}</Typography.Text> : r.message,
            },
          ]}
        />
      </Card>

      <Card
        title={t('detail.precheckReport')}
        style={{ marginBottom: 12 }}
        extra={<Space>{report && <ReportExportButtons taskId={task.id} />}</Space>}
        {...tid('detail-precheck')}
      >
        {report && (report.items ?? []).length > 0 ? (
          <>
            <Typography.Paragraph type="secondary">
              {t('detail.precheckWhen', { started: fmtTime(report.started), finished: fmtTime(report.finished) })}{' '}
              {precheckPassed(report.items ?? []) ? <Tag color="success">{t('precheck.passed')}</Tag> : <Tag color="error">{t('precheck.failed')}</Tag>}
            </Typography.Paragraph>
            <PrecheckTable taskId={task.id} items={report.items ?? []} canIgnore={false} />
          </>
        ) : (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('detail.noPrecheck')} />
        )}
      </Card>

      {spec && (
        <ThrottleModal
          open={throttleOpen}
          taskId={task.id}
          full={spec.advanced?.fullThrottle ?? { enabled: false }}
          incremental={spec.advanced?.incrementalThrottle ?? { enabled: false }}
          hasFull={!!task.migrationTypes?.full}
          hasIncremental={!!task.migrationTypes?.incremental}
          onClose={() => setThrottleOpen(false)}
          onSaved={(full, incremental) => {
            setThrottleOpen(false);
            setTask((prev) =>
              prev && prev.spec
                ? { ...prev, spec: { ...prev.spec, advanced: { ...prev.spec.advanced, fullThrottle: full, incrementalThrottle: incremental } } }
                : prev,
            );
          }}
        />
      )}
    </div>
  );
}

/** "Modify transfer rate": the throttles, changeable while the task runs. */
function ThrottleModal(props: {
  open: boolean;
  taskId: number;
  full: Throttle;
  incremental: Throttle;
  hasFull: boolean;
  hasIncremental: boolean;
  onClose: () => void;
  onSaved: (full: Throttle, incremental: Throttle) => void;
}) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [full, setFull] = useState<Throttle>(props.full);
  const [inc, setInc] = useState<Throttle>(props.incremental);
  const [saving, setSaving] = useState(false);
  const [serverError, setServerError] = useState('');

  useEffect(() => {
    if (props.open) {
      setFull({ ...props.full });
      setInc({ ...props.incremental });
      setServerError('');
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.open]);

  const errors: FieldError[] = [];
  const add = (path: string, msg: string) => errors.push({ path, message: msg });
  validateThrottle(full, '$.advanced.fullThrottle', true, add);
  validateThrottle(inc, '$.advanced.incrementalThrottle', false, add);
  if (full.enabled && !props.hasFull) add('$.advanced.fullThrottle.enabled', 'full-migration throttling needs full data migration selected');
  if (inc.enabled && !props.hasIncremental)
    add('$.advanced.incrementalThrottle.enabled', 'incremental throttling needs incremental data migration selected');

  const n = (v: number | string | null) => (v === null || v === '' ? 0 : Number(v) || 0);
  const section = (
    which: 'full' | 'inc',
    th: Throttle,
    setTh: (x: Throttle) => void,
    label: string,
  ) => {
    const p = which === 'full' ? '$.advanced.fullThrottle' : '$.advanced.incrementalThrottle';
    return (
      <>
        <Field label={label} path={p} paths={[p + '.enabled']} exact errors={errors}>
          <Radio.Group value={th.enabled} onChange={(e) => setTh({ ...th, enabled: e.target.value })} {...tid('throttle-' + which)}>
            <Radio value={false}>{t('common.no')}</Radio>
            <Radio value={true}>{t('common.yes')}</Radio>
          </Radio.Group>
        </Field>
        {th.enabled && (
          <>
            {which === 'full' && (
              <Field label={t('adv.qps')} path={p + '.qps'} errors={errors}>
                <InputNumber value={th.qps ?? 0} precision={0} style={{ width: 200 }} onChange={(v) => setTh({ ...th, qps: n(v) })} {...tid('throttle-full-qps')} />
              </Field>
            )}
            <Field label={which === 'full' ? t('adv.fullRps') : t('adv.incRps')} path={p + '.rps'} errors={errors}>
              <InputNumber value={th.rps ?? 0} precision={0} style={{ width: 200 }} onChange={(v) => setTh({ ...th, rps: n(v) })} {...tid('throttle-' + which + '-rps')} />
            </Field>
            <Field label={which === 'full' ? t('adv.fullMbps') : t('adv.incMbps')} path={p + '.mbps'} errors={errors}>
              <InputNumber
                value={th.mbps ?? 0}
                step={0.1}
                style={{ width: 200 }}
                addonAfter="MB/s"
                onChange={(v) => setTh({ ...th, mbps: n(v) })}
                {...tid('throttle-' + which + '-mbps')}
              />
            </Field>
          </>
        )}
      </>
    );
  };

  return (
    <Modal
      open={props.open}
      title={t('detail.modifyRate')}
      onCancel={props.onClose}
      width={640}
      okText={t('common.ok')}
      cancelText={t('common.cancel')}
      okButtonProps={{ disabled: errors.length > 0, loading: saving, ...tid('throttle-ok') }}
      onOk={async () => {
        setSaving(true);
        setServerError('');
        try {
          await Tasks.SetThrottle(props.taskId, full, inc);
          message.success(t('detail.rateSaved'));
          props.onSaved(full, inc);
        } catch (e) {
          setServerError((e as Error).message);
        } finally {
          setSaving(false);
        }
      }}
    >
      <Typography.Paragraph type="secondary">{t('detail.modifyRateHint')}</Typography.Paragraph>
      <Form layout="horizontal" labelCol={{ span: 10 }} wrapperCol={{ span: 14 }}>
        {props.hasFull && section('full', full, setFull, t('adv.fullThrottle'))}
        {props.hasIncremental && section('inc', inc, setInc, t('adv.incThrottle'))}
      </Form>
      {serverError && <Alert type="error" showIcon message={serverError} />}
    </Modal>
  );
}
