import { useCallback, useEffect, useMemo, useState } from 'react';
import { Alert, App, Button, Card, Divider, Form, Input, Modal, Popconfirm, Radio, Space, Table, Tag, Typography } from 'antd';
import { ExportOutlined, ImportOutlined, PlusOutlined, ReloadOutlined } from '@ant-design/icons';
import type { ColumnsType } from 'antd/es/table';
import { Connections as ConnAPI, type FieldError, type Profile, type ProfileKind, type TestResult } from '../api';
import { useI18n } from '../i18n';
import { KafkaFields, MySQLFields, TestResultView, type PathBinding } from '../components/ConnFields';
import { ExportModal, ImportModal } from '../components/TextFileModals';
import { clone, Field, fmtTime, getIn, setIn, tid, useTouched } from '../util';
import { q, validateKafka, validateMySQL } from '../validate';

const topicRe = /^[a-zA-Z0-9._-]{1,249}$/;

export function newProfile(kind: ProfileKind): Profile {
  return kind === 'mysql'
    ? { id: 0, name: '', kind, mysql: { host: '', port: 3306, user: '', encryption: 'none', tls: {} }, hasPassword: false }
    : {
        id: 0,
        name: '',
        kind,
        kafka: { brokers: [], kafkaVersion: '2.8.0', sasl: {}, tls: {} },
        hasPassword: false,
      };
}

/** The same rules as the task file, at the profile's paths. */
export function validateProfile(p: Profile): FieldError[] {
  const es: FieldError[] = [];
  const add = (path: string, message: string) => es.push({ path, message });
  if (!p.name.trim()) add('$.name', 'the profile needs a name');
  if (p.kind === 'mysql') validateMySQL(p.mysql ?? { tls: {} }, '$.mysql', add);
  else {
    const k = p.kafka ?? { sasl: {}, tls: {} };
    validateKafka(k, '$.kafka', add);
    for (const f of ['topic', 'ddlTopic'] as const) {
      const v = k[f];
      if (v && !topicRe.test(v)) {
        add('$.kafka.' + f, `${q(v)} is not a valid Kafka topic name (letters, digits, '.', '_', '-'; at most 249)`);
      }
    }
    if (k.schemaRegistryUrl) {
      let ok = false;
      try {
        const u = new URL(k.schemaRegistryUrl);
        ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.host !== '';
      } catch {
        ok = false;
      }
      if (!ok) add('$.kafka.schemaRegistryUrl', 'must be an http:// or https:// URL when the schema registry is on');
    }
  }
  return es;
}

export function profileAddress(p: Profile): string {
  if (p.kind === 'mysql') return p.mysql ? `${p.mysql.host ?? ''}:${p.mysql.port ?? ''}` : '-';
  return (p.kafka?.brokers ?? []).join(', ') || '-';
}

function profileUser(p: Profile): string {
  if (p.kind === 'mysql') return p.mysql?.user || '-';
  return p.kafka?.sasl?.user || '-';
}

/** Create/edit a profile: choose the kind, fill, test, save. */
export function ProfileModal(props: {
  open: boolean;
  initial: Profile | null;
  onClose: () => void;
  onSaved: (p: Profile) => void;
}) {
  const { t } = useI18n();
  const [draft, setDraft] = useState<Profile>(newProfile('mysql'));
  const [saving, setSaving] = useState(false);
  const [testing, setTesting] = useState(false);
  const [result, setResult] = useState<TestResult | null>(null);
  const [serverError, setServerError] = useState('');
  const touched = useTouched();

  useEffect(() => {
    if (props.open) {
      const p = props.initial ? clone(props.initial) : newProfile('mysql');
      if (p.mysql) {
        p.mysql.password = undefined;
        p.mysql.tls = p.mysql.tls ?? {};
      }
      if (p.kafka) {
        p.kafka.sasl = { ...(p.kafka.sasl ?? {}), password: undefined };
        p.kafka.tls = p.kafka.tls ?? {};
      }
      setDraft(p);
      setResult(null);
      setServerError('');
      touched.reset();
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.open, props.initial]);

  const errors = useMemo(() => validateProfile(draft), [draft]);
  const b: PathBinding = {
    get: (path) => getIn(draft, path),
    set: (path, v) => {
      touched.touch(path);
      setDraft((d) => setIn(d, path, v));
      setResult(null);
    },
    errors,
    shown: touched.shown,
  };
  const editing = !!draft.id;

  const test = async () => {
    touched.showAll();
    const connErrors = errors.filter((e) => e.path !== '$.name');
    if (connErrors.length) return;
    setTesting(true);
    setResult(null);
    try {
      setResult(await ConnAPI.Test(draft));
    } catch (e) {
      setResult({ ok: false, message: (e as Error).message, details: [] });
    } finally {
      setTesting(false);
    }
  };

  const save = async () => {
    touched.showAll();
    if (errors.length) return;
    setSaving(true);
    setServerError('');
    try {
      const saved = await ConnAPI.Save(draft);
      props.onSaved(saved);
    } catch (e) {
      setServerError((e as Error).message);
    } finally {
      setSaving(false);
    }
  };

  return (
    <Modal
      open={props.open}
      title={editing ? t('conn.editTitle', { name: props.initial?.name ?? '' }) : t('conn.createTitle')}
      onCancel={props.onClose}
      width={720}
      destroyOnHidden
      maskClosable={false}
      footer={
        <Space>
          <Button onClick={test} loading={testing} {...tid('conn-test')}>
            {t('conn.testConnectivity')}
          </Button>
          <Button onClick={props.onClose} {...tid('conn-cancel')}>
            {t('common.cancel')}
          </Button>
          <Button type="primary" onClick={save} loading={saving} {...tid('conn-save')}>
            {t('common.save')}
          </Button>
        </Space>
      }
    >
      <div {...tid('conn-form')}>
        <Form layout="horizontal" labelCol={{ span: 7 }} wrapperCol={{ span: 16 }} labelWrap>
          <Form.Item label={t('conn.kind')}>
            <Radio.Group
              value={draft.kind}
              disabled={editing}
              optionType="button"
              buttonStyle="solid"
              onChange={(e) => {
                const np = newProfile(e.target.value);
                np.name = draft.name;
                setDraft(np);
                setResult(null);
              }}
            >
              <Radio.Button value="mysql">
                <span {...tid('conn-kind-mysql')}>MySQL</span>
              </Radio.Button>
              <Radio.Button value="kafka">
                <span {...tid('conn-kind-kafka')}>Kafka</span>
              </Radio.Button>
            </Radio.Group>
          </Form.Item>
          <Field label={t('conn.name')} path="$.name" errors={errors} show={touched.shown('$.name')} required>
            <Input value={draft.name} onChange={(e) => b.set('$.name', e.target.value)} {...tid('conn-name')} />
          </Field>
          <Divider orientation="left" plain style={{ margin: '8px 0 16px' }}>
            {draft.kind === 'mysql' ? t('conn.mysqlSection') : t('conn.kafkaSection')}
          </Divider>
          {draft.kind === 'mysql' ? (
            <MySQLFields b={b} prefix="$.mysql" testPrefix="conn" hasPassword={draft.hasPassword} />
          ) : (
            <>
              <KafkaFields b={b} prefix="$.kafka" testPrefix="conn" hasPassword={draft.hasPassword} />
              <Divider orientation="left" plain style={{ margin: '8px 0 16px' }}>
                {t('conn.taskDefaults')}
              </Divider>
              <Field label={t('wizard.topic')} path="$.kafka.topic" errors={errors} show={touched.shown('$.kafka.topic')}>
                <Input
                  value={draft.kafka?.topic ?? ''}
                  onChange={(e) => b.set('$.kafka.topic', e.target.value || undefined)}
                  {...tid('conn-topic')}
                />
              </Field>
              <Field label={t('wizard.ddlTopic')} path="$.kafka.ddlTopic" errors={errors} show={touched.shown('$.kafka.ddlTopic')}>
                <Input
                  value={draft.kafka?.ddlTopic ?? ''}
                  onChange={(e) => b.set('$.kafka.ddlTopic', e.target.value || undefined)}
                  {...tid('conn-ddl-topic')}
                />
              </Field>
              <Field
                label={t('conn.schemaRegistryUrl')}
                path="$.kafka.schemaRegistryUrl"
                errors={errors}
                show={touched.shown('$.kafka.schemaRegistryUrl')}
              >
                <Input
                  value={draft.kafka?.schemaRegistryUrl ?? ''}
                  placeholder="http://127.0.0.1:8081"
                  onChange={(e) => b.set('$.kafka.schemaRegistryUrl', e.target.value || undefined)}
                  {...tid('conn-registry-url')}
                />
              </Field>
            </>
          )}
        </Form>
        <TestResultView result={result} testId="conn-test-result" />
        {serverError && (
          <Alert style={{ marginTop: 8 }} type="error" showIcon message={serverError} {...tid('conn-save-error')} />
        )}
      </div>
    </Modal>
  );
}

export default function Connections() {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [list, setList] = useState<Profile[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState('');
  const [editing, setEditing] = useState<Profile | null>(null);
  const [formOpen, setFormOpen] = useState(false);
  const [selected, setSelected] = useState<number[]>([]);
  const [exporting, setExporting] = useState(false);
  const [importing, setImporting] = useState(false);
  const [testing, setTesting] = useState<number | null>(null);
  const [testResult, setTestResult] = useState<{ name: string; result: TestResult } | null>(null);
  const [filter, setFilter] = useState('');

  const reload = useCallback(async () => {
    try {
      setList(await ConnAPI.List(''));
      setError('');
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setLoading(false);
    }
  }, []);
  useEffect(() => {
    reload();
  }, [reload]);

  const test = async (p: Profile) => {
    setTesting(p.id);
    try {
      const r = await ConnAPI.Test(p);
      setTestResult({ name: p.name, result: r });
    } catch (e) {
      setTestResult({ name: p.name, result: { ok: false, message: (e as Error).message, details: [] } });
    } finally {
      setTesting(null);
    }
  };

  const shown = list.filter((p) => {
    const f = filter.trim().toLowerCase();
    return !f || p.name.toLowerCase().includes(f) || profileAddress(p).toLowerCase().includes(f);
  });

  const columns: ColumnsType<Profile> = [
    {
      title: t('conn.name'),
      dataIndex: 'name',
      render: (v: string, r) => (
        <a onClick={() => { setEditing(r); setFormOpen(true); }} {...tid('conn-link')}>
          {v}
        </a>
      ),
    },
    {
      title: t('conn.kind'),
      dataIndex: 'kind',
      width: 100,
      render: (k: string) => <Tag color={k === 'mysql' ? 'blue' : 'purple'}>{k === 'mysql' ? 'MySQL' : 'Kafka'}</Tag>,
    },
    { title: t('conn.address'), render: (_, r) => <Typography.Text style={{ fontSize: 12 }}>{profileAddress(r)}</Typography.Text> },
    { title: t('conn.user'), width: 140, render: (_, r) => profileUser(r) },
    {
      title: t('conn.password'),
      width: 110,
      render: (_, r) => (r.hasPassword ? <Tag>{t('conn.saved')}</Tag> : <Typography.Text type="secondary">-</Typography.Text>),
    },
    { title: t('conn.created'), width: 170, render: (_, r) => fmtTime(r.created ?? r.Created) },
    {
      title: t('tasks.col.actions'),
      width: 300,
      render: (_, r) => (
        <Space size={0} wrap>
          <Button type="link" size="small" loading={testing === r.id} onClick={() => test(r)} {...tid('conn-action-test')}>
            {t('conn.testConnectivity')}
          </Button>
          <Button type="link" size="small" onClick={() => { setEditing(r); setFormOpen(true); }} {...tid('conn-action-edit')}>
            {t('action.edit')}
          </Button>
          <Button
            type="link"
            size="small"
            {...tid('conn-action-duplicate')}
            onClick={async () => {
              try {
                const d = await ConnAPI.Duplicate(r.id);
                message.success(t('conn.duplicated', { name: d.name }));
                reload();
              } catch (e) {
                message.error((e as Error).message);
              }
            }}
          >
            {t('action.duplicate')}
          </Button>
          <Popconfirm
            title={t('confirm.delete', { name: r.name })}
            description={t('confirm.deleteProfileDesc')}
            okType="danger"
            okButtonProps={tid('confirm-ok')}
            onConfirm={async () => {
              try {
                await ConnAPI.Delete(r.id);
                message.success(t('msg.deleted', { name: r.name }));
                setSelected((s) => s.filter((x) => x !== r.id));
                reload();
              } catch (e) {
                message.error((e as Error).message);
              }
            }}
          >
            <Button type="link" size="small" danger {...tid('conn-action-delete')}>
              {t('action.delete')}
            </Button>
          </Popconfirm>
        </Space>
      ),
    },
  ];

  const exportIds = selected.length ? selected : list.map((p) => p.id);

  return (
    <Card
      title={t('conn.title')}
      extra={
        <Space wrap>
          <Input.Search allowClear placeholder={t('conn.search')} onChange={(e) => setFilter(e.target.value)} style={{ width: 200 }} />
          <Button icon={<ReloadOutlined />} onClick={reload}>
            {t('common.refresh')}
          </Button>
          <Button icon={<ImportOutlined />} onClick={() => setImporting(true)} {...tid('conn-import')}>
            {t('common.import')}
          </Button>
          <Button icon={<ExportOutlined />} onClick={() => setExporting(true)} disabled={!list.length} {...tid('conn-export')}>
            {selected.length ? t('conn.exportSelected', { n: selected.length }) : t('conn.exportAll')}
          </Button>
          <Button
            type="primary"
            icon={<PlusOutlined />}
            onClick={() => {
              setEditing(null);
              setFormOpen(true);
            }}
            {...tid('conn-create')}
          >
            {t('conn.create')}
          </Button>
        </Space>
      }
    >
      {error && <Alert type="error" showIcon message={error} style={{ marginBottom: 12 }} />}
      <Table<Profile>
        rowKey="id"
        size="middle"
        loading={loading}
        columns={columns}
        dataSource={shown}
        scroll={{ x: 1000 }}
        rowSelection={{ selectedRowKeys: selected, onChange: (keys) => setSelected(keys as number[]) }}
        pagination={{ defaultPageSize: 20, hideOnSinglePage: true }}
        onRow={(r) => ({ 'data-testid': 'conn-row-' + r.name, 'data-kind': r.kind }) as object}
        locale={{ emptyText: t('conn.empty') }}
        {...tid('conn-table')}
      />
      <ProfileModal
        open={formOpen}
        initial={editing}
        onClose={() => setFormOpen(false)}
        onSaved={(p) => {
          message.success(t('conn.savedMsg', { name: p.name }));
          setFormOpen(false);
          reload();
        }}
      />
      <Modal
        open={!!testResult}
        title={t('conn.testTitle', { name: testResult?.name ?? '' })}
        onCancel={() => setTestResult(null)}
        footer={
          <Button type="primary" onClick={() => setTestResult(null)} {...tid('conn-test-close')}>
            {t('common.close')}
          </Button>
        }
      >
        <TestResultView result={testResult?.result ?? null} testId="conn-test-result" />
      </Modal>
      <ExportModal
        open={exporting}
        title={t('conn.exportTitle', { n: exportIds.length })}
        filename="tributary-connections.json"
        load={(secrets) => ConnAPI.Export(exportIds, secrets)}
        onClose={() => setExporting(false)}
        secretsOption
        secretsWarning={t('conn.secretsWarning')}
      />
      <ImportModal
        open={importing}
        title={t('conn.importTitle')}
        hint={t('conn.importHint')}
        onClose={() => setImporting(false)}
        submit={async (text) => {
          const r = await ConnAPI.Import(text);
          const imported = r.imported ?? [];
          if (imported.length) reload();
          return {
            errors: r.errors ?? [],
            ok: imported.length ? t('conn.imported', { n: imported.length, names: imported.join(', ') }) : null,
          };
        }}
      />
    </Card>
  );
}
