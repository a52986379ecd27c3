import { useCallback, useEffect, useMemo, useState } from 'react';
import { Alert, Button, Card, Input, Progress, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { ExclamationCircleOutlined, ImportOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import { on, Tasks, type TaskSummary } from '../api';
import { useI18n } from '../i18n';
import TaskActions from '../components/TaskActions';
import { ImportModal } from '../components/TextFileModals';
import { ACTIVE_STATES, fmtLatency, fmtTime, StateTag, stateAfterProgress, tid } from '../util';

/** The full-migration percent to show: 100 once completed, "-" when not selected. */
export function fullPercent(task: TaskSummary): number | null {
  if (!task.migrationTypes?.full) return null;
  if (task.progress && typeof task.progress.percent === 'number') {
    if (task.state === 'Completed' && task.progress.phase !== 'incremental') return 100;
    return Math.max(0, Math.min(100, task.progress.percent));
  }
  if (task.state === 'Completed') return 100;
  return 0;
}

export function fmtPercent(p: number): string {
  return (p >= 100 ? 100 : Math.floor(p * 10) / 10) + '%';
}

/** Keeps a task list current from task:update and task:progress events. */
export function useLiveTasks() {
  const [tasks, setTasks] = useState<TaskSummary[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState('');

  const reload = useCallback(async () => {
    try {
      const list = await Tasks.List();
      setTasks(list);
      setError('');
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setLoading(false);
    }
  }, []);

  useEffect(() => {
    reload();
    const offs = [
      on('task:update', (d) => {
        if (!d || typeof d.id !== 'number') return;
        setTasks((prev) => {
          if (d.deleted) return prev.filter((x) => x.id !== d.id);
          const i = prev.findIndex((x) => x.id === d.id);
          if (i < 0) return [d, ...prev];
          const next = prev.slice();
          next[i] = { ...prev[i], ...d, progress: d.progress ?? prev[i].progress };
          return next;
        });
      }),
      on('task:progress', (p) => {
        if (!p || typeof p.taskId !== 'number') return;
        setTasks((prev) => {
          const i = prev.findIndex((x) => x.id === p.taskId);
          if (i < 0) return prev;
          const next = prev.slice();
          next[i] = { ...prev[i], progress: p, state: stateAfterProgress(prev[i].state, p) };
          return next;
        });
      }),
    ];
    return () => offs.forEach((f) => f());
  }, [reload]);

  // A slow safety net in case an event stream drops while tasks run.
  const active = tasks.some((x) => ACTIVE_STATES.includes(x.state));
  useEffect(() => {
    if (!active) return;
    const h = setInterval(reload, 5000);
    return () => clearInterval(h);
  }, [active, reload]);

  return { tasks, setTasks, loading, error, reload };
}

export default function TaskList({ go }: { go: (to: string) => void }) {
  const { t, has } = useI18n();
  const { tasks, loading, error, reload } = useLiveTasks();
  const [importing, setImporting] = useState(false);
  const [filter, setFilter] = useState('');

  const shown = useMemo(() => {
    const f = filter.trim().toLowerCase();
    const list = f
      ? tasks.filter((x) =>
          [x.name, x.source, x.destination, x.environmentTag, String(x.id)].some((s) => (s ?? '').toLowerCase().includes(f)),
        )
      : tasks;
    return [...list].sort((a, b) => b.id - a.id);
  }, [tasks, filter]);

  const columns: ColumnsType<TaskSummary> = [
    {
      title: t('tasks.col.name'),
      dataIndex: 'name',
      width: 240,
      fixed: 'left',
      // Long names are cut with an ellipsis; the whole name shows on hover.
      render: (_, r) => (
        <div style={{ minWidth: 0 }}>
          <div className="tb-cell-line">
            <Tooltip title={r.name} placement="topLeft" mouseEnterDelay={0.4}>
              <a className="tb-ellipsis" onClick={() => go('tasks/' + r.id)} {...tid('task-link')} data-task-name={r.name}>
                {r.name}
              </a>
            </Tooltip>
            {r.lastError && (
              <Tooltip title={r.lastError}>
                <ExclamationCircleOutlined style={{ color: '#ff4d4f', flex: 'none' }} />
              </Tooltip>
            )}
            <Typography.Text type="secondary" style={{ fontSize: 12, flex: 'none' }}>
              #{r.id}
            </Typography.Text>
          </div>
          <Typography.Text type="secondary" style={{ fontSize: 12 }} {...tid('task-created')}>
            {t('tasks.col.created')} {fmtTime(r.created)}
          </Typography.Text>
        </div>
      ),
    },
    {
      title: t('tasks.col.state'),
      dataIndex: 'state',
      width: 110,
      render: (_, r) => (
        <Tooltip title={r.progress?.retryReason || r.lastError || undefined}>
          <span>
            <StateTag task={r} testId="task-state" />
          </span>
        </Tooltip>
      ),
    },
    {
      title: t('tasks.col.progress'),
      width: 140,
      render: (_, r) => {
        const p = fullPercent(r);
        if (p === null) return <span {...tid('task-progress')}>-</span>;
        return (
          <div {...tid('task-progress')} data-percent={p}>
            <Progress
              percent={p}
              size="small"
              status={r.state === 'Failed' ? 'exception' : r.state === 'Completed' ? 'success' : 'normal'}
              format={(v) => fmtPercent(v ?? 0)}
            />
          </div>
        );
      },
    },
    {
      title: t('tasks.col.latency'),
      width: 100,
      render: (_, r) => (
        <span {...tid('task-latency')}>
          {r.migrationTypes?.incremental && ACTIVE_STATES.includes(r.state) ? fmtLatency(r.progress?.latencyMs) : '-'}
        </span>
      ),
    },
    {
      title: t('tasks.col.route'),
      // No width: it takes what the others leave.
      // Source over destination, each on one line cut with an ellipsis (the tooltip has both).
      render: (_, r) => (
        <Tooltip title={`${r.source || '-'} → ${r.destination || '-'}`} placement="topLeft" mouseEnterDelay={0.4}>
          <div style={{ fontSize: 12, lineHeight: '18px', minWidth: 0 }} {...tid('task-route')}>
            <div className="tb-ellipsis">{r.source || '-'}</div>
            <div className="tb-ellipsis">
              <span style={{ opacity: 0.6 }}>→</span> {r.destination || '-'}
            </div>
          </div>
        </Tooltip>
      ),
    },
    {
      title: t('tasks.col.env'),
      dataIndex: 'environmentTag',
      width: 100,
      render: (v: string) => (v ? <Tag color="blue">{has(('env.' + v) as never) ? t(('env.' + v) as never) : v}</Tag> : '-'),
    },
    {
      title: t('tasks.col.actions'),
      width: 210,
      fixed: 'right',
      // Only what the task's state allows, to keep the row short (the detail page shows all).
      render: (_, r) => <TaskActions task={r} go={go} onChanged={reload} onDeleted={reload} hideDisabled />,
    },
  ];

  return (
    <Card
      title={
        <Space>
          <span>{t('tasks.title')}</span>
        </Space>
      }
      extra={
        <Space wrap>
          <Input.Search
            allowClear
            placeholder={t('tasks.search')}
            onChange={(e) => setFilter(e.target.value)}
            style={{ width: 220 }}
            {...tid('tasks-search')}
          />
          <Button icon={<ReloadOutlined />} onClick={reload} {...tid('tasks-reload')}>
            {t('common.refresh')}
          </Button>
          <Button icon={<ImportOutlined />} onClick={() => setImporting(true)} {...tid('tasks-import')}>
            {t('tasks.import')}
          </Button>
          <Button type="primary" icon={<PlusOutlined />} onClick={() => go('tasks/new')} {...tid('tasks-create')}>
            {t('tasks.create')}
          </Button>
        </Space>
      }
    >
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />}
      <Table<TaskSummary>
        rowKey="id"
        size="middle"
        loading={loading}
        columns={columns}
        dataSource={shown}
        scroll={{ x: 1030 }}
        pagination={{ defaultPageSize: 20, showSizeChanger: true, hideOnSinglePage: true }}
        onRow={(r) => ({ 'data-testid': 'task-row-' + r.id, 'data-task-name': r.name, 'data-state': r.state }) as object}
        locale={{ emptyText: t('tasks.empty') }}
        {...tid('tasks-table')}
      />
      <ImportModal
        open={importing}
        title={t('tasks.importTitle')}
        hint={t('tasks.importHint')}
        onClose={() => setImporting(false)}
        submit={async (text) => {
          const r = await Tasks.Import(text);
          const errors = r.errors ?? [];
          if (r.task && errors.length === 0) {
            reload();
            return { errors, ok: t('tasks.imported', { name: r.task.name, id: r.task.id }) };
          }
          return { errors, ok: null };
        }}
      />
    </Card>
  );
}
