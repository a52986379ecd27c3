// Task alerts (Monitoring and Alerting → desktop notification): the Go side emits an "alert"
// event when a task fails or its incremental latency passes the threshold. Every alert shows as
// an in-app notification; when the browser or WebKit allows it, also as a system notification.

import { useEffect } from 'react';
import { App, Button, Space, Tag, Typography } from 'antd';
import { on, type AlertEvent } from '../api';
import { useI18n, type Key } from '../i18n';
import { fmtTime, tid, useLatest } from '../util';

/** Whether this browser (or WebKit view) has the Notification API. */
export function notificationsSupported(): boolean {
  return typeof window !== 'undefined' && 'Notification' in window && typeof window.Notification === 'function';
}

/** The current permission: "granted", "denied", "default", or "unsupported". */
export function notificationPermission(): NotificationPermission | 'unsupported' {
  if (!notificationsSupported()) return 'unsupported';
  return window.Notification.permission;
}

/**
 * Asks for permission to show system notifications, when it has not been asked yet. Called when
 * the user turns on desktop alerts (a user gesture, as browsers require).
 */
export async function requestNotificationPermission(): Promise<NotificationPermission | 'unsupported'> {
  if (!notificationsSupported()) return 'unsupported';
  const N = window.Notification;
  if (N.permission !== 'default') return N.permission;
  try {
    // Old WebKit takes a callback instead of returning a promise.
    const r = await new Promise<NotificationPermission>((resolve) => {
      const p = N.requestPermission((v) => resolve(v));
      if (p && typeof p.then === 'function') p.then(resolve, () => resolve(N.permission));
    });
    return r;
  } catch {
    return N.permission;
  }
}

function titleOf(a: AlertEvent, t: (k: Key, v?: Record<string, string | number>) => string): string {
  const name = a.task || '#' + a.taskId;
  return a.kind === 'failed' ? t('alert.failed', { name }) : t('alert.latency', { name });
}

/** Shows every "alert" event; mounted once inside antd's App. */
export function AlertListener({ go }: { go: (to: string) => void }) {
  const { notification } = App.useApp();
  const { t, has } = useI18n();
  const latest = useLatest({ t, has, go, notification });

  useEffect(
    () =>
      on('alert', (a) => {
        if (!a || typeof a !== 'object') return;
        const { t, has, go, notification } = latest.current;
        const title = titleOf(a, t);
        const env = a.environmentTag
          ? has(('env.' + a.environmentTag) as Key)
            ? t(('env.' + a.environmentTag) as Key)
            : a.environmentTag
          : '';
        const key = `alert-${a.taskId}-${a.kind}`;
        const view = () => {
          notification.destroy(key);
          if (a.taskId) go('tasks/' + a.taskId);
        };
        notification.open({
          key,
          type: a.kind === 'failed' ? 'error' : 'warning',
          message: title,
          description: (
            <Space direction="vertical" size={2} style={{ width: '100%' }}>
              <Typography.Text style={{ wordBreak: 'break-word' }}>{a.message}</Typography.Text>
              <Space size={6} wrap>
                {env && <Tag color="blue">{env}</Tag>}
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {fmtTime(a.time)}
                </Typography.Text>
              </Space>
            </Space>
          ),
          actions: a.taskId ? (
            <Button type="primary" size="small" onClick={view} {...tid('alert-view')}>
              {t('alert.view')}
            </Button>
          ) : undefined,
          // A failure stays until it is closed; a latency alert goes after a while.
          duration: a.kind === 'failed' ? 0 : 15,
          placement: 'topRight',
          props: { 'data-testid': 'alert-notification', 'data-kind': a.kind, 'data-task-id': String(a.taskId) } as { 'data-testid': string },
        });

        if (notificationPermission() === 'granted') {
          try {
            const body = [env ? `[${env}]` : '', a.message].filter(Boolean).join(' ');
            const n = new window.Notification(title, { body, tag: key });
            n.onclick = () => {
              try {
                window.focus();
              } catch {
                /* not allowed */
              }
              view();
              n.close();
            };
          } catch {
            /* a view that has the API but refuses to construct (e.g. needs a service worker) */
          }
        }
      }),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [],
  );
  return null;
}
