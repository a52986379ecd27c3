import { useState } from 'react';
import { Alert, Card, Descriptions, Form, Radio } from 'antd';
import type { Settings } from '../api';
import { useI18n } from '../i18n';
import { tid } from '../util';

export default function SettingsPage(props: { settings: Settings; onChange: (s: Settings) => Promise<void>; version: string }) {
  const { t } = useI18n();
  const [error, setError] = useState('');
  const save = (s: Settings) => {
    setError('');
    props.onChange(s).catch((e: Error) => setError(e.message));
  };
  return (
    <Card title={t('settings.title')}>
      <Form layout="horizontal" labelCol={{ span: 4 }} wrapperCol={{ span: 18 }} style={{ maxWidth: 760 }}>
        <Form.Item label={t('settings.language')}>
          <Radio.Group
            value={props.settings.language}
            optionType="button"
            onChange={(e) => save({ ...props.settings, language: e.target.value })}
          >
            <Radio.Button value="en">
              <span {...tid('settings-lang-en')}>English</span>
            </Radio.Button>
            <Radio.Button value="zh">
              <span {...tid('settings-lang-zh')}>简体中文</span>
            </Radio.Button>
          </Radio.Group>
        </Form.Item>
        <Form.Item label={t('settings.theme')} extra={t('settings.themeHint')}>
          <Radio.Group value={props.settings.theme} optionType="button" onChange={(e) => save({ ...props.settings, theme: e.target.value })}>
            <Radio.Button value="system">
              <span {...tid('settings-theme-system')}>{t('settings.themeSystem')}</span>
            </Radio.Button>
            <Radio.Button value="light">
              <span {...tid('settings-theme-light')}>{t('settings.themeLight')}</span>
            </Radio.Button>
            <Radio.Button value="dark">
              <span {...tid('settings-theme-dark')}>{t('settings.themeDark')}</span>
            </Radio.Button>
          </Radio.Group>
        </Form.Item>
      </Form>
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />}
      <Descriptions size="small" column={1} style={{ maxWidth: 760, marginTop: 12 }}>
        <Descriptions.Item label={t('settings.version')}>
          <span {...tid('settings-version')}>{props.version || '-'}</span>
        </Descriptions.Item>
      </Descriptions>
    </Card>
  );
}
