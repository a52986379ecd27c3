import { lazy, Suspense, useCallback, useEffect, useMemo, useState } from 'react';
import { App as AntApp, ConfigProvider, Layout, Menu, Spin, Typography, theme as antdTheme } from 'antd';
import { DatabaseOutlined, SettingOutlined, SwapOutlined, ApiOutlined } from '@ant-design/icons';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { SettingsAPI, System, Tasks, type Options, type Settings } from './api';
import { I18nProvider, makeT, useI18n, type Lang } from './i18n';
import { DarkContext, FALLBACK_OPTIONS, OptionsContext } from './options';
import { tid } from './util';
import TaskList from './pages/TaskList';
import Connections from './pages/Connections';
import SettingsPage from './pages/Settings';
import Wizard from './pages/Wizard';
import { AlertListener } from './components/Alerts';

// The detail page carries the charts: load it (and echarts) on demand.
const TaskDetailPage = lazy(() => import('./pages/TaskDetail'));

/** The route in the location hash: #/tasks, #/tasks/new, #/tasks/12, #/tasks/12/edit, ... */
export function useHashRoute(): [string[], (to: string) => void] {
  const parse = () => (window.location.hash.replace(/^#\/?/, '') || 'tasks').split('/').filter(Boolean);
  const [parts, setParts] = useState<string[]>(parse);
  useEffect(() => {
    const h = () => setParts(parse());
    window.addEventListener('hashchange', h);
    return () => window.removeEventListener('hashchange', h);
  }, []);
  const go = useCallback((to: string) => {
    window.location.hash = '#/' + to.replace(/^\/+/, '');
  }, []);
  return [parts, go];
}

function useSystemDark(): boolean {
  const mq = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
  const [dark, setDark] = useState(mq?.matches ?? false);
  useEffect(() => {
    if (!mq) return;
    const h = (e: MediaQueryListEvent) => setDark(e.matches);
    mq.addEventListener('change', h);
    return () => mq.removeEventListener('change', h);
  }, [mq]);
  return dark;
}

export default function App() {
  const [settings, setSettings] = useState<Settings>(() => {
    const lang = (localStorage.getItem('tributary.lang') as Lang) || (navigator.language?.startsWith('zh') ? 'zh' : 'en');
    const theme = (localStorage.getItem('tributary.theme') as Settings['theme']) || 'system';
    return { language: lang === 'zh' ? 'zh' : 'en', theme };
  });
  const [options, setOptions] = useState<Options>(FALLBACK_OPTIONS);
  const [version, setVersion] = useState('');
  const systemDark = useSystemDark();
  const dark = settings.theme === 'dark' || (settings.theme === 'system' && systemDark);
  const [route, go] = useHashRoute();

  useEffect(() => {
    SettingsAPI.Get()
      .then((s) => s && setSettings({ language: s.language === 'zh' ? 'zh' : 'en', theme: s.theme || 'system' }))
      .catch(() => {});
    Tasks.Options()
      .then((o) => o && setOptions({ ...FALLBACK_OPTIONS, ...o }))
      .catch(() => {});
    System.Version()
      .then((v) => setVersion(v ?? ''))
      .catch(() => {});
  }, []);

  const lang: Lang = settings.language;
  useEffect(() => {
    dayjs.locale(lang === 'zh' ? 'zh-cn' : 'en');
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    localStorage.setItem('tributary.lang', lang);
    localStorage.setItem('tributary.theme', settings.theme);
  }, [lang, settings.theme]);

  useEffect(() => {
    document.body.style.background = dark ? '#141414' : '#f5f5f5';
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  }, [dark]);

  const saveSettings = useCallback(async (s: Settings) => {
    setSettings(s);
    await SettingsAPI.Save(s);
  }, []);

  const t = useMemo(() => makeT(lang), [lang]);
  const page = route[0] ?? 'tasks';
  const menuKey = page === 'connections' ? 'connections' : page === 'settings' ? 'settings' : 'tasks';

  let content;
  if (page === 'connections') content = <Connections />;
  else if (page === 'settings') content = <SettingsPage settings={settings} onChange={saveSettings} version={version} />;
  else if (page === 'tasks' && route[1] === 'new') content = <Wizard key="new" go={go} />;
  else if (page === 'tasks' && route[1] && route[2] === 'edit')
    content = <Wizard key={'edit' + route[1]} go={go} taskId={Number(route[1])} startStep={route[3]} />;
  else if (page === 'tasks' && route[1])
    content = (
      <Suspense fallback={<Spin />}>
        <TaskDetailPage key={route[1]} id={Number(route[1])} go={go} />
      </Suspense>
    );
  else content = <TaskList go={go} />;

  return (
    <I18nProvider lang={lang}>
      <OptionsContext.Provider value={options}>
        <ConfigProvider
          locale={lang === 'zh' ? zhCN : enUS}
          theme={{
            algorithm: dark ? antdTheme.darkAlgorithm : antdTheme.defaultAlgorithm,
            token: { colorPrimary: '#ff6a00', borderRadius: 4 },
          }}
        >
          <DarkContext.Provider value={dark}>
            <AntApp>
              <AlertListener go={go} />
              <Shell dark={dark} menuKey={menuKey} go={go} title={t('app.title')}>
                {content}
              </Shell>
            </AntApp>
          </DarkContext.Provider>
        </ConfigProvider>
      </OptionsContext.Provider>
    </I18nProvider>
  );
}

function Shell(props: {
  dark: boolean;
  menuKey: string;
  go: (to: string) => void;
  title: string;
  children: React.ReactNode;
}) {
  const { token } = antdTheme.useToken();
  const { t } = useI18n();
  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Header
        style={{
          display: 'flex',
          alignItems: 'center',
          padding: '0 20px',
          background: props.dark ? '#1f1f1f' : '#232f3e',
          color: '#fff',
          height: 52,
          lineHeight: '52px',
        }}
      >
        <div className="tb-logo" {...tid('app-title')}>
          <SwapOutlined style={{ color: token.colorPrimary }} />
          <span>{props.title}</span>
        </div>
        <Typography.Text style={{ color: 'rgba(255,255,255,0.65)', marginLeft: 16 }}>{t('app.subtitle')}</Typography.Text>
      </Layout.Header>
      <Layout>
        <Layout.Sider width={200} theme="light" breakpoint="lg" collapsedWidth={56}>
          <Menu
            mode="inline"
            selectedKeys={[props.menuKey]}
            style={{ height: '100%', borderInlineEnd: 0 }}
            onClick={(e) => props.go(e.key)}
            items={[
              { key: 'tasks', icon: <DatabaseOutlined />, label: <span {...tid('nav-tasks')}>{t('nav.tasks')}</span> },
              {
                key: 'connections',
                icon: <ApiOutlined />,
                label: <span {...tid('nav-connections')}>{t('nav.connections')}</span>,
              },
              {
                key: 'settings',
                icon: <SettingOutlined />,
                label: <span {...tid('nav-settings')}>{t('nav.settings')}</span>,
              },
            ]}
          />
        </Layout.Sider>
        <Layout.Content style={{ padding: 20, minWidth: 0 }}>{props.children}</Layout.Content>
      </Layout>
    </Layout>
  );
}
