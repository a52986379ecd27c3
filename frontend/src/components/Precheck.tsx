import { useCallback, useEffect, useRef, useState } from 'react';
import { Alert, App, Button, Modal, Popconfirm, Progress, Space, Table, Tag, Typography } from 'antd';
import {
  CheckCircleFilled,
  CloseCircleFilled,
  ExclamationCircleFilled,
  ExportOutlined,
  LoadingOutlined,
  RedoOutlined,
} from '@ant-design/icons';
import { on, Precheck, Tasks, type PrecheckItem, type PrecheckReport } from '../api';
import { useI18n } from '../i18n';
import { tid } from '../util';
import { ExportModal } from './TextFileModals';

export function successRate(items: PrecheckItem[], total: number): number {
  const n = Math.max(total, items.length);
  if (n === 0) return 0;
  const ok = items.filter((i) => i.result === 'passed' || (i.result === 'warning' && i.ignored)).length;
  return Math.floor((ok / n) * 100);
}

/** Next is allowed when nothing failed and every warning is ignored (DTS "Success Rate 100%"). */
export function precheckPassed(items: PrecheckItem[]): boolean {
  if (items.length === 0) return false;
  return items.every((i) => i.result === 'passed' || (i.result === 'warning' && i.ignored));
}

function ResultTag({ item }: { item: PrecheckItem }) {
  const { t } = useI18n();
  if (item.result === 'passed')
    return (
      <Tag color="success" icon={<CheckCircleFilled />}>
        {t('precheck.passed')}
      </Tag>
    );
  if (item.result === 'warning')
    return item.ignored ? (
      <Tag icon={<ExclamationCircleFilled />}>{t('precheck.ignored')}</Tag>
    ) : (
      <Tag color="warning" icon={<ExclamationCircleFilled />}>
        {t('precheck.warning')}
      </Tag>
    );
  return (
    <Tag color="error" icon={<CloseCircleFilled />}>
      {t('precheck.failed')}
    </Tag>
  );
}

function Details({ item }: { item: PrecheckItem }) {
  const { t } = useI18n();
  const details = item.details ?? [];
  return (
    <div {...tid('precheck-details-' + item.code)}>
      {details.length > 0 ? (
        <ul style={{ margin: 0, paddingLeft: 18 }}>
          {details.map((d, i) => (
            <li key={i} className="tb-mono">
              {d}
            </li>
          ))}
        </ul>
      ) : (
        <Typography.Text type="secondary">{t('precheck.noDetails')}</Typography.Text>
      )}
      {item.fix && (
        <div style={{ marginTop: 6 }}>
          <Typography.Text strong>{t('precheck.fix')}: </Typography.Text>
          <Typography.Text>{item.fix}</Typography.Text>
        </div>
      )}
    </div>
  );
}

/** The precheck items table: View Details, and Confirm Alert Details → Ignore → OK for warnings. */
export function PrecheckTable(props: {
  taskId: number;
  items: PrecheckItem[];
  onIgnored?: (code: string) => void;
  canIgnore?: boolean;
}) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [expanded, setExpanded] = useState<string[]>([]);
  const [confirm, setConfirm] = useState<PrecheckItem | null>(null);
  const [busy, setBusy] = useState(false);

  const ignore = async (item: PrecheckItem) => {
    setBusy(true);
    try {
      await Precheck.Ignore(props.taskId, item.code);
      message.success(t('precheck.ignoredMsg', { name: item.name }));
      props.onIgnored?.(item.code);
      setConfirm(null);
    } catch (e) {
      message.error((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Table<PrecheckItem>
        rowKey="code"
        size="small"
        pagination={false}
        dataSource={props.items}
        onRow={(r) => ({ 'data-testid': 'precheck-item-' + r.code, 'data-result': r.result, 'data-ignored': String(!!r.ignored) }) as object}
        expandable={{
          expandedRowKeys: expanded,
          showExpandColumn: false,
          expandedRowRender: (r) => <Details item={r} />,
        }}
        columns={[
          { title: t('precheck.col.item'), dataIndex: 'name', render: (v: string, r) => v || r.code },
          { title: t('precheck.col.result'), width: 130, render: (_, r) => <ResultTag item={r} /> },
          {
            title: t('tasks.col.actions'),
            width: 300,
            render: (_, r) => (
              <Space size={0}>
                <Button
                  type="link"
                  size="small"
                  {...tid('precheck-view-' + r.code)}
                  onClick={() =>
                    setExpanded((e) => (e.includes(r.code) ? e.filter((x) => x !== r.code) : [...e, r.code]))
                  }
                >
                  {expanded.includes(r.code) ? t('precheck.hideDetails') : t('precheck.viewDetails')}
                </Button>
                {props.canIgnore !== false && r.result === 'warning' && r.ignorable && !r.ignored && (
                  <Button type="link" size="small" onClick={() => setConfirm(r)} {...tid('precheck-confirm-' + r.code)}>
                    {t('precheck.confirmAlert')}
                  </Button>
                )}
              </Space>
            ),
          },
        ]}
      />
      <Modal
        open={!!confirm}
        title={t('precheck.viewDetailsTitle')}
        onCancel={() => setConfirm(null)}
        footer={
          <Space>
            <Button onClick={() => setConfirm(null)}>{t('common.cancel')}</Button>
            <Popconfirm
              title={t('precheck.ignoreConfirm')}
              description={t('precheck.ignoreRisk')}
              okText={t('common.ok')}
              cancelText={t('common.cancel')}
              okButtonProps={{ ...tid('precheck-ignore-ok'), loading: busy }}
              onConfirm={() => confirm && ignore(confirm)}
            >
              <Button danger {...tid('precheck-ignore')}>
                {t('precheck.ignore')}
              </Button>
            </Popconfirm>
          </Space>
        }
      >
        {confirm && (
          <div {...tid('precheck-confirm-dialog')}>
            <Typography.Paragraph strong>{confirm.name}</Typography.Paragraph>
            <Details item={confirm} />
          </div>
        )}
      </Modal>
    </>
  );
}

export function ReportExportButtons({ taskId, disabled }: { taskId: number; disabled?: boolean }) {
  const { t } = useI18n();
  const [fmt, setFmt] = useState<'markdown' | 'html' | null>(null);
  return (
    <>
      <Button icon={<ExportOutlined />} disabled={disabled} onClick={() => setFmt('markdown')} {...tid('precheck-export-md')}>
        {t('precheck.exportMd')}
      </Button>
      <Button icon={<ExportOutlined />} disabled={disabled} onClick={() => setFmt('html')} {...tid('precheck-export-html')}>
        {t('precheck.exportHtml')}
      </Button>
      <ExportModal
        open={fmt !== null}
        title={t('precheck.exportTitle')}
        filename={`precheck-task-${taskId}.${fmt === 'html' ? 'html' : 'md'}`}
        mime={fmt === 'html' ? 'text/html' : 'text/markdown'}
        load={() => Precheck.ExportReport(taskId, fmt ?? 'markdown')}
        onClose={() => setFmt(null)}
      />
    </>
  );
}

const rank = (i: PrecheckItem) => (i.result === 'failed' ? 0 : i.result === 'warning' && !i.ignored ? 1 : 2);

/** The items with the failed ones first, then the warnings not ignored, each group in check order. */
export function problemsFirst(items: PrecheckItem[]): PrecheckItem[] {
  return items
    .map((item, i) => ({ item, i }))
    .sort((a, b) => rank(a.item) - rank(b.item) || a.i - b.i)
    .map((x) => x.item);
}

/** Runs the precheck of a saved task and follows it to the end. */
export function PrecheckRunner(props: { taskId: number; onPassed: (passed: boolean) => void }) {
  const { t } = useI18n();
  const { taskId } = props;
  const [items, setItems] = useState<PrecheckItem[]>([]);
  const [done, setDone] = useState(0);
  const [total, setTotal] = useState(0);
  const [running, setRunning] = useState(false);
  const [finished, setFinished] = useState(false);
  const [error, setError] = useState('');
  const runId = useRef(0);

  const upsert = useCallback((item: PrecheckItem) => {
    setItems((prev) => {
      const i = prev.findIndex((x) => x.code === item.code);
      if (i < 0) return [...prev, item];
      const next = prev.slice();
      next[i] = item;
      return next;
    });
  }, []);

  const applyReport = useCallback((r: PrecheckReport | null) => {
    if (!r) return;
    const list = r.items ?? [];
    setItems(list);
    setTotal(Math.max(r.total || 0, list.length));
    setDone(list.length);
  }, []);

  const finish = useCallback(
    async (id: number) => {
      if (id !== runId.current) return;
      try {
        applyReport(await Precheck.Report(taskId));
      } catch (e) {
        setError((e as Error).message);
      }
      if (id !== runId.current) return;
      setRunning(false);
      setFinished(true);
    },
    [taskId, applyReport],
  );

  const run = useCallback(async () => {
    const id = ++runId.current;
    setItems([]);
    setDone(0);
    setTotal(0);
    setError('');
    setFinished(false);
    setRunning(true);
    try {
      await Precheck.Run(taskId);
    } catch (e) {
      if (id !== runId.current) return;
      setError((e as Error).message);
      setRunning(false);
      setFinished(true);
      return;
    }
    // Follow the task state as a safety net for missed events: the precheck is over once the
    // task leaves Prechecking.
    const started = Date.now();
    while (id === runId.current) {
      await new Promise((r) => setTimeout(r, 1000));
      if (id !== runId.current) return;
      try {
        const d = await Tasks.Get(taskId);
        if (d.state !== 'Prechecking' && Date.now() - started > 600) {
          await finish(id);
          return;
        }
      } catch {
        /* keep waiting */
      }
      if (Date.now() - started > 10 * 60 * 1000) {
        await finish(id);
        return;
      }
    }
  }, [taskId, finish]);

  useEffect(() => {
    const offs = [
      on('precheck:item', (ev) => {
        if (!ev || ev.taskId !== taskId || !ev.item) return;
        upsert(ev.item);
        if (typeof ev.done === 'number') setDone(ev.done);
        if (typeof ev.total === 'number') setTotal(ev.total);
      }),
      on('precheck:done', (r) => {
        if (!r || r.taskId !== taskId) return;
        applyReport(r);
        runId.current++;
        setRunning(false);
        setFinished(true);
      }),
    ];
    run();
    return () => {
      runId.current++;
      offs.forEach((f) => f());
    };
  }, [taskId, run, upsert, applyReport]);

  const passed = finished && !error && precheckPassed(items);
  useEffect(() => {
    props.onPassed(passed);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [passed]);

  const rate = successRate(items, total);
  const pct = total > 0 ? Math.min(100, Math.round((done / total) * 100)) : finished ? 100 : 0;
  const failed = items.filter((i) => i.result === 'failed').length;
  const warnings = items.filter((i) => i.result === 'warning' && !i.ignored).length;

  return (
    <div {...tid('precheck')} data-finished={finished ? 'true' : 'false'} data-passed={passed ? 'true' : 'false'}>
      <Space align="center" style={{ marginBottom: 12, width: '100%', justifyContent: 'space-between' }} wrap>
        <Space align="center" size="large">
          <Typography.Title level={5} style={{ margin: 0 }}>
            {running ? (
              <>
                <LoadingOutlined /> {t('precheck.running')}
              </>
            ) : (
              t('precheck.finished')
            )}
          </Typography.Title>
          <Typography.Text {...tid('precheck-success-rate')} data-rate={rate}>
            {t('precheck.successRate')}: <b>{rate}%</b>
          </Typography.Text>
          <Typography.Text type="secondary">
            {done}/{total || '?'}
          </Typography.Text>
        </Space>
        <Space wrap>
          <Button icon={<RedoOutlined />} onClick={run} disabled={running} {...tid('precheck-again')}>
            {t('precheck.again')}
          </Button>
          <ReportExportButtons taskId={taskId} disabled={running} />
        </Space>
      </Space>
      <div {...tid('precheck-progress')} data-done={done} data-total={total}>
        <Progress percent={pct} status={running ? 'active' : failed ? 'exception' : 'normal'} />
      </div>
      {error && <Alert type="error" showIcon message={error} style={{ margin: '8px 0' }} {...tid('precheck-error')} />}
      {finished && !error && (failed > 0 || warnings > 0) && (
        <Alert
          type={failed ? 'error' : 'warning'}
          showIcon
          style={{ margin: '8px 0' }}
          message={failed ? t('precheck.hasFailed', { n: failed }) : t('precheck.hasWarnings', { n: warnings })}
        />
      )}
      <PrecheckTable
        taskId={taskId}
        items={finished ? problemsFirst(items) : items}
        canIgnore={!running}
        onIgnored={(code) => setItems((prev) => prev.map((i) => (i.code === code ? { ...i, ignored: true } : i)))}
      />
    </div>
  );
}
