import { useState } from 'react';
import { App, Button, Popconfirm, Space } from 'antd';
import { Tasks, type TaskSummary } from '../api';
import { useI18n, type Key } from '../i18n';
import { ExportModal } from './TextFileModals';
import { tid } from '../util';

export type Action = 'view' | 'edit' | 'precheck' | 'start' | 'pause' | 'resume' | 'stop' | 'clone' | 'export' | 'delete';

/** Which actions a task in a state allows. */
export function allowed(state: string, a: Action): boolean {
  switch (a) {
    case 'view':
    case 'clone':
    case 'export':
      return true;
    case 'edit':
      return state === 'NotStarted' || state === 'PrecheckFailed';
    case 'precheck':
      return ['NotStarted', 'PrecheckFailed', 'Stopped', 'Failed', 'Paused'].includes(state);
    case 'start':
      return state === 'NotStarted' || state === 'PrecheckFailed' || state === 'Stopped' || state === 'Failed';
    case 'pause':
      return state === 'Running' || state === 'Retrying';
    case 'resume':
      return state === 'Paused';
    case 'stop':
      return state === 'Running' || state === 'Retrying' || state === 'Paused';
    case 'delete':
      return state !== 'Running' && state !== 'Retrying' && state !== 'Prechecking';
  }
}

export function exportFilename(task: Pick<TaskSummary, 'name' | 'id'>): string {
  const base = (task.name || 'task-' + task.id).replace(/[^a-zA-Z0-9._-]+/g, '_');
  return base + '.task.json';
}

export default function TaskActions(props: {
  task: TaskSummary;
  go: (to: string) => void;
  actions?: Action[];
  buttons?: boolean;
  /** Leave out the actions the task's state does not allow. */
  hideDisabled?: boolean;
  onDeleted?: () => void;
  onChanged?: () => void;
}) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const { task, go } = props;
  const [busy, setBusy] = useState<Action | null>(null);
  const [exporting, setExporting] = useState(false);
  const list: Action[] = props.actions ?? ['view', 'start', 'pause', 'resume', 'stop', 'clone', 'export', 'delete'];

  const run = async (a: Action, fn: () => Promise<unknown>, done?: Key) => {
    setBusy(a);
    try {
      await fn();
      if (done) message.success(t(done, { name: task.name }));
      props.onChanged?.();
    } catch (e) {
      message.error((e as Error).message);
    } finally {
      setBusy(null);
    }
  };

  // A task starts only after its precheck passes (as in DTS): when the server says so, open the
  // wizard's precheck step for it.
  const start = async () => {
    setBusy('start');
    try {
      await Tasks.Start(task.id);
      message.success(t('msg.started', { name: task.name }));
      props.onChanged?.();
    } catch (e) {
      const msg = (e as Error).message;
      if (/precheck/i.test(msg) && (task.state === 'NotStarted' || task.state === 'PrecheckFailed')) {
        message.warning(msg);
        go('tasks/' + task.id + '/edit/precheck');
      } else {
        message.error(msg);
      }
    } finally {
      setBusy(null);
    }
  };

  const type = props.buttons ? 'default' : 'link';
  const size = props.buttons ? 'middle' : 'small';
  const btn = (a: Action, label: Key, onClick: () => void, extra?: { danger?: boolean; primary?: boolean }) => (
    <Button
      key={a}
      type={extra?.primary && props.buttons ? 'primary' : type}
      size={size}
      danger={extra?.danger}
      disabled={!allowed(task.state, a)}
      loading={busy === a}
      onClick={onClick}
      style={props.buttons ? undefined : { paddingInline: 4 }}
      {...tid('task-action-' + a)}
    >
      {t(label)}
    </Button>
  );

  const shown = props.hideDisabled ? list.filter((a) => allowed(task.state, a)) : list;
  const items = shown.map((a) => {
    switch (a) {
      case 'view':
        return btn('view', 'action.view', () => go('tasks/' + task.id));
      case 'edit':
        return btn('edit', 'action.edit', () => go('tasks/' + task.id + '/edit'));
      case 'precheck':
        return btn('precheck', 'action.precheck', () => go('tasks/' + task.id + '/edit/precheck'));
      case 'start':
        return btn('start', 'action.start', () => start(), { primary: true });
      case 'pause':
        return btn('pause', 'action.pause', () => run('pause', () => Tasks.Pause(task.id), 'msg.paused'));
      case 'resume':
        return btn('resume', 'action.resume', () => run('resume', () => Tasks.Resume(task.id), 'msg.resumed'));
      case 'stop':
        return (
          <Popconfirm
            key="stop"
            title={t('confirm.stop', { name: task.name })}
            onConfirm={() => run('stop', () => Tasks.Stop(task.id), 'msg.stopped')}
            okButtonProps={tid('confirm-ok')}
            disabled={!allowed(task.state, 'stop')}
          >
            {btn('stop', 'action.stop', () => {})}
          </Popconfirm>
        );
      case 'clone':
        return btn('clone', 'action.clone', () =>
          run('clone', async () => {
            const c = await Tasks.Clone(task.id);
            message.success(t('msg.cloned', { name: c.name }));
          }),
        );
      case 'export':
        return btn('export', 'action.export', () => setExporting(true));
      case 'delete':
        return (
          <Popconfirm
            key="delete"
            title={t('confirm.delete', { name: task.name })}
            description={t('confirm.deleteTaskDesc')}
            okType="danger"
            okButtonProps={tid('confirm-ok')}
            disabled={!allowed(task.state, 'delete')}
            onConfirm={() =>
              run('delete', async () => {
                await Tasks.Delete(task.id);
                props.onDeleted?.();
              }, 'msg.deleted')
            }
          >
            {btn('delete', 'action.delete', () => {}, { danger: true })}
          </Popconfirm>
        );
    }
  });

  return (
    <>
      <Space size={props.buttons ? 8 : 0} wrap>
        {items}
      </Space>
      <ExportModal
        open={exporting}
        title={t('export.taskTitle', { name: task.name })}
        filename={exportFilename(task)}
        load={(secrets) => Tasks.Export(task.id, secrets)}
        onClose={() => setExporting(false)}
        secretsOption
        autoDownload
      />
    </>
  );
}
