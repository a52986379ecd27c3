import { useEffect, useMemo, useState } from 'react';
import {
  Alert,
  Button,
  Checkbox,
  Dropdown,
  Empty,
  Form,
  Input,
  InputNumber,
  Modal,
  Select,
  Space,
  Spin,
  Tag,
  Tooltip,
  Tree,
  Typography,
  theme,
} from 'antd';
import type { DataNode } from 'antd/es/tree';
import { EditOutlined, LeftOutlined, ReloadOutlined, RightOutlined, WarningOutlined } from '@ant-design/icons';
import { Catalog, type ColumnInfo, type DatabaseNode, type FieldError, type Obj, type Source, type TaskSpec, type TestResult } from '../api';
import { useI18n } from '../i18n';
import { useOptions } from '../options';
import { isEdited, useSpecErrors } from '../spec';
import { Field, fmtNum, tid } from '../util';
import { errorsAt } from '../validate';
import { TestResultView } from './ConnFields';

const tableKey = (db: string, table: string) => 't:' + JSON.stringify([db, table]);
const parseTableKey = (k: string): [string, string] | null => {
  if (!k.startsWith('t:')) return null;
  try {
    const v = JSON.parse(k.slice(2));
    return Array.isArray(v) && v.length === 2 ? [String(v[0]), String(v[1])] : null;
  } catch {
    return null;
  }
};
const objName = (o: Pick<Obj, 'database' | 'table'>) => o.database + '.' + o.table;
const sameObj = (a: Pick<Obj, 'database' | 'table'>, db: string, table: string) =>
  a.database.toLowerCase() === db.toLowerCase() && a.table.toLowerCase() === table.toLowerCase();

/** DTS's source/selected objects transfer, with the right-click "Edit" on selected tables. */
export function ObjectsTransfer(props: {
  spec: TaskSpec;
  source: Source;
  dbs: DatabaseNode[] | null;
  loading: boolean;
  loadError: string;
  reload: () => void;
  errors: FieldError[];
  showErrors: boolean;
  onChange: (objects: Obj[]) => void;
}) {
  const { t } = useI18n();
  const { token } = theme.useToken();
  const { spec, dbs } = props;
  const objects = spec.objects;
  const [search, setSearch] = useState('');
  const [checked, setChecked] = useState<string[]>([]);
  const [expanded, setExpanded] = useState<string[]>([]);
  const [rightChecked, setRightChecked] = useState<string[]>([]);
  const [editIndex, setEditIndex] = useState<number | null>(null);

  const isSelected = (db: string, table: string) => objects.some((o) => sameObj(o, db, table));

  const filtered = useMemo(() => {
    const f = search.trim().toLowerCase();
    return (dbs ?? [])
      .map((d) => ({
        ...d,
        tables: (d.tables ?? []).filter((tb) => !f || tb.name.toLowerCase().includes(f) || d.name.toLowerCase().includes(f)),
      }))
      .filter((d) => !f || d.tables.length > 0 || d.name.toLowerCase().includes(f));
  }, [dbs, search]);

  useEffect(() => {
    if (search.trim()) setExpanded(filtered.map((d) => 'd:' + d.name));
  }, [search, filtered]);

  const treeData: DataNode[] = filtered.map((d) => ({
    key: 'd:' + d.name,
    title: (
      <span {...tid('tree-node-' + d.name)}>
        {d.name}{' '}
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          ({(d.tables ?? []).length})
        </Typography.Text>
      </span>
    ),
    children: (d.tables ?? []).map((tb) => {
      const sel = isSelected(d.name, tb.name);
      return {
        key: tableKey(d.name, tb.name),
        isLeaf: true,
        disableCheckbox: sel,
        title: (
          <span {...tid('tree-node-' + d.name + '.' + tb.name)}>
            <span style={sel ? { opacity: 0.5 } : undefined}>{tb.name}</span>{' '}
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              ~{fmtNum(tb.rows)} {t('objects.rows')}
            </Typography.Text>
            {!tb.hasKey && (
              <Tooltip title={t('objects.noKeyTip')}>
                <Tag color="warning" style={{ marginLeft: 6 }} {...tid('no-key-' + d.name + '.' + tb.name)}>
                  {t('objects.noKey')}
                </Tag>
              </Tooltip>
            )}
            {sel && (
              <Tag style={{ marginLeft: 6 }} bordered={false}>
                {t('objects.alreadySelected')}
              </Tag>
            )}
          </span>
        ),
      };
    }),
  }));

  const visibleTableKeys = filtered.flatMap((d) =>
    d.tables.filter((tb) => !isSelected(d.name, tb.name)).map((tb) => tableKey(d.name, tb.name)),
  );
  const allChecked = visibleTableKeys.length > 0 && visibleTableKeys.every((k) => checked.includes(k));

  const add = () => {
    const adds: Obj[] = [];
    for (const d of dbs ?? []) {
      for (const tb of d.tables ?? []) {
        if (checked.includes(tableKey(d.name, tb.name)) && !isSelected(d.name, tb.name)) {
          adds.push({ database: d.name, table: tb.name });
        }
      }
    }
    // Tables checked in an earlier listing that is no longer loaded.
    for (const k of checked) {
      const p = parseTableKey(k);
      if (p && !adds.some((o) => sameObj(o, p[0], p[1])) && !isSelected(p[0], p[1])) {
        if (!(dbs ?? []).some((d) => d.name === p[0] && (d.tables ?? []).some((tb) => tb.name === p[1]))) {
          adds.push({ database: p[0], table: p[1] });
        }
      }
    }
    if (adds.length) props.onChange([...objects, ...adds]);
    setChecked([]);
  };
  const remove = () => {
    props.onChange(objects.filter((o) => !rightChecked.includes(objName(o))));
    setRightChecked([]);
  };

  const listErr = props.showErrors ? errorsAt(props.errors, '$.objects', true) : [];
  const panelStyle = { border: `1px solid ${listErr.length ? token.colorError : token.colorBorder}` };

  return (
    <>
      <div className="tb-transfer">
        <div className="tb-transfer-panel" style={{ border: `1px solid ${token.colorBorder}` }} {...tid('source-objects')}>
          <div style={{ padding: 8, borderBottom: `1px solid ${token.colorBorderSecondary}` }}>
            <Space style={{ width: '100%', justifyContent: 'space-between' }}>
              <Typography.Text strong>{t('objects.source')}</Typography.Text>
              <Button size="small" type="text" icon={<ReloadOutlined />} onClick={props.reload} {...tid('objects-reload')} />
            </Space>
            <Input.Search
              size="small"
              allowClear
              placeholder={t('objects.search')}
              style={{ marginTop: 6 }}
              onChange={(e) => setSearch(e.target.value)}
              {...tid('objects-search')}
            />
            <div style={{ marginTop: 6 }}>
              <span {...tid('objects-select-all')}>
                <Checkbox
                  checked={allChecked}
                  indeterminate={!allChecked && checked.length > 0}
                  disabled={visibleTableKeys.length === 0}
                  onChange={(e) => setChecked(e.target.checked ? Array.from(new Set([...checked, ...visibleTableKeys])) : [])}
                >
                  {t('objects.selectAll')}
                </Checkbox>
              </span>
            </div>
          </div>
          <div className="tb-transfer-body">
            {props.loading ? (
              <div style={{ textAlign: 'center', padding: 40 }}>
                <Spin />
              </div>
            ) : props.loadError ? (
              <Alert type="error" showIcon message={t('objects.loadFailed')} description={props.loadError} {...tid('objects-load-error')} />
            ) : treeData.length === 0 ? (
              <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('objects.noTables')} />
            ) : (
              <Tree
                checkable
                selectable={false}
                treeData={treeData}
                checkedKeys={checked}
                expandedKeys={expanded}
                onExpand={(keys) => setExpanded(keys as string[])}
                onCheck={(keys) => {
                  const arr = (Array.isArray(keys) ? keys : keys.checked) as string[];
                  setChecked(arr.filter((k) => k.startsWith('t:')));
                }}
              />
            )}
          </div>
        </div>
        <div className="tb-transfer-buttons">
          <Tooltip title={t('objects.add')}>
            <Button icon={<RightOutlined />} type="primary" disabled={checked.length === 0} onClick={add} {...tid('objects-add')} />
          </Tooltip>
          <Tooltip title={t('objects.remove')}>
            <Button icon={<LeftOutlined />} disabled={rightChecked.length === 0} onClick={remove} {...tid('objects-remove')} />
          </Tooltip>
        </div>
        <div className="tb-transfer-panel" style={panelStyle} {...tid('selected-objects')}>
          <div style={{ padding: 8, borderBottom: `1px solid ${token.colorBorderSecondary}` }}>
            <Space style={{ width: '100%', justifyContent: 'space-between' }}>
              <Typography.Text strong>
                {t('objects.selected')} ({objects.length})
              </Typography.Text>
              <span {...tid('selected-select-all')}>
                <Checkbox
                  checked={objects.length > 0 && rightChecked.length === objects.length}
                  indeterminate={rightChecked.length > 0 && rightChecked.length < objects.length}
                  disabled={objects.length === 0}
                  onChange={(e) => setRightChecked(e.target.checked ? objects.map(objName) : [])}
                >
                  {t('objects.selectAll')}
                </Checkbox>
              </span>
            </Space>
            <Typography.Text type="secondary" style={{ fontSize: 12, display: 'block', marginTop: 6 }}>
              {t('objects.rightClickHint')}
            </Typography.Text>
          </div>
          <div className="tb-transfer-body">
            {objects.length === 0 && <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('objects.noneSelected')} />}
            {objects.map((o, i) => {
              const name = objName(o);
              const errs = props.showErrors ? errorsAt(props.errors, `$.objects[${i}]`) : [];
              const edited = isEdited(o);
              const topic = o.topic || spec.destination.topic;
              return (
                <Dropdown
                  key={name + i}
                  trigger={['contextMenu']}
                  menu={{
                    items: [
                      { key: 'edit', icon: <EditOutlined />, label: <span {...tid('ctx-edit-' + name)}>{t('objects.edit')}</span> },
                      { key: 'remove', label: <span {...tid('ctx-remove-' + name)}>{t('objects.removeOne')}</span> },
                    ],
                    onClick: ({ key }) => {
                      if (key === 'edit') setEditIndex(i);
                      else props.onChange(objects.filter((_, j) => j !== i));
                    },
                  }}
                >
                  <div
                    className="tb-selected-item"
                    {...tid('selected-object-' + name)}
                    data-edited={edited ? 'true' : 'false'}
                    style={{
                      background: rightChecked.includes(name) ? token.controlItemBgActive : undefined,
                      outline: errs.length ? `1px solid ${token.colorError}` : undefined,
                    }}
                    onDoubleClick={() => setEditIndex(i)}
                  >
                    <Checkbox
                      checked={rightChecked.includes(name)}
                      onChange={(e) =>
                        setRightChecked((s) => (e.target.checked ? [...s, name] : s.filter((x) => x !== name)))
                      }
                    />
                    <span style={{ flex: 1, minWidth: 0, overflow: 'hidden', textOverflow: 'ellipsis', whiteSpace: 'nowrap' }}>
                      {name}
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {' '}
                        → {topic || t('objects.taskTopic')}
                      </Typography.Text>
                    </span>
                    {o.filter && (
                      <Tooltip title={o.filter}>
                        <Tag bordered={false}>{t('objects.filtered')}</Tag>
                      </Tooltip>
                    )}
                    {edited && (
                      <Tag color="blue" icon={<EditOutlined />} {...tid('edited-' + name)}>
                        {t('objects.edited')}
                      </Tag>
                    )}
                    {errs.length > 0 && (
                      <Tooltip title={errs.map((e) => e.message).join('; ')}>
                        <WarningOutlined style={{ color: token.colorError }} {...tid('object-error-' + name)} />
                      </Tooltip>
                    )}
                    <Button
                      type="link"
                      size="small"
                      style={{ paddingInline: 2 }}
                      onClick={() => setEditIndex(i)}
                      {...tid('edit-object-' + name)}
                    >
                      {t('objects.edit')}
                    </Button>
                  </div>
                </Dropdown>
              );
            })}
          </div>
        </div>
      </div>
      {listErr.length > 0 && (
        <div style={{ color: token.colorError, marginTop: 6 }} {...tid('objects-error')}>
          {listErr.map((e, i) => (
            <div key={i}>{e.message}</div>
          ))}
        </div>
      )}
      <EditObjectModal
        open={editIndex !== null}
        index={editIndex ?? 0}
        spec={spec}
        source={props.source}
        onCancel={() => setEditIndex(null)}
        onOk={(o) => {
          if (editIndex === null) return;
          const next = objects.slice();
          next[editIndex] = o;
          props.onChange(next);
          setEditIndex(null);
        }}
      />
    </>
  );
}

/** DTS's "Edit Table" dialog for one selected table. */
export function EditObjectModal(props: {
  open: boolean;
  index: number;
  spec: TaskSpec;
  source: Source;
  onCancel: () => void;
  onOk: (o: Obj) => void;
}) {
  const { t } = useI18n();
  const opts = useOptions();
  const { spec, index } = props;
  const orig = spec.objects[index];
  const [draft, setDraft] = useState<Obj | null>(null);
  const [columns, setColumns] = useState<ColumnInfo[]>([]);
  const [colError, setColError] = useState('');
  const [verify, setVerify] = useState<TestResult | null>(null);
  const [verifying, setVerifying] = useState(false);

  useEffect(() => {
    if (!props.open || !orig) {
      setDraft(null);
      return;
    }
    setDraft({ ...orig, topic: orig.topic || spec.destination.topic });
    setVerify(null);
    setColumns([]);
    setColError('');
    Catalog.Columns(props.source, orig.database, orig.table)
      .then(setColumns)
      .catch((e: Error) => setColError(e.message));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.open, index]);

  const toObj = (d: Obj): Obj => {
    const o: Obj = { database: d.database, table: d.table };
    if (d.topic && d.topic !== spec.destination.topic) o.topic = d.topic;
    if (d.partitions) o.partitions = d.partitions;
    if (d.partitionKey && d.partitionKey.length) o.partitionKey = d.partitionKey;
    if (d.filter && d.filter.trim()) o.filter = d.filter.trim();
    if (d.dml !== undefined) o.dml = d.dml;
    if (d.ddl !== undefined) o.ddl = d.ddl;
    return o;
  };

  const draftSpec = useMemo(() => {
    if (!draft || !props.open) return null;
    const objects = spec.objects.slice();
    objects[index] = toObj(draft);
    return { ...spec, objects };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [draft, spec, index, props.open]);
  const allErrors = useSpecErrors(draftSpec, 250);
  const p = `$.objects[${index}]`;
  const errors = allErrors.filter((e) => e.path === p || e.path.startsWith(p + '.') || e.path.startsWith(p + '['));
  // The topic field shows the task topic when unmapped; an empty field means "the task topic".
  const topicErrors = draft && !draft.topic ? [] : errors;

  if (!orig) return null;
  const hashPK = spec.partitionPolicy === 'hash-primary-key';
  const dmlAll = opts.dmlOps;
  const ddlAll = opts.ddlOps;
  const setD = (patch: Partial<Obj>) => setDraft((d) => (d ? { ...d, ...patch } : d));

  return (
    <Modal
      open={props.open}
      title={t('edit.title', { name: objName(orig) })}
      width={860}
      style={{ top: 32 }}
      // The body scrolls so that OK and Cancel stay in view in a short window.
      styles={{ body: { maxHeight: 'calc(100vh - 190px)', overflowY: 'auto', overflowX: 'hidden', paddingRight: 8 } }}
      onCancel={props.onCancel}
      destroyOnHidden
      maskClosable={false}
      footer={
        <Space>
          <Button onClick={props.onCancel} {...tid('edit-cancel')}>
            {t('common.cancel')}
          </Button>
          <Button
            type="primary"
            disabled={!draft || errors.length > 0}
            onClick={() => draft && props.onOk(toObj(draft))}
            {...tid('edit-ok')}
          >
            {t('common.ok')}
          </Button>
        </Space>
      }
    >
      {draft && (
        <div {...tid('edit-table-dialog')}>
          <Form layout="horizontal" labelCol={{ span: 7 }} wrapperCol={{ span: 17 }} labelWrap>
            <Field
              label={t('edit.tableName')}
              path={p + '.topic'}
              errors={topicErrors}
              extra={t('edit.tableNameHint')}
            >
              <Input value={draft.topic ?? ''} onChange={(e) => setD({ topic: e.target.value })} {...tid('edit-topic')} />
            </Field>
            <Field label={t('edit.filter')} path={p + '.filter'} errors={errors} extra={t('edit.filterHint')}>
              <Input.TextArea
                  value={draft.filter ?? ''}
                  autoSize={{ minRows: 2, maxRows: 5 }}
                  placeholder="id > 100 AND status = 'active'"
                  onChange={(e) => {
                    setD({ filter: e.target.value });
                    setVerify(null);
                  }}
                  {...tid('edit-filter')}
                />
              <div style={{ marginTop: 6 }}>
                <Button
                  size="small"
                  loading={verifying}
                  disabled={!(draft.filter ?? '').trim()}
                  {...tid('edit-verify')}
                  onClick={async () => {
                    setVerifying(true);
                    try {
                      setVerify(await Catalog.VerifyFilter(props.source, orig.database, orig.table, (draft.filter ?? '').trim()));
                    } catch (e) {
                      setVerify({ ok: false, message: (e as Error).message, details: [] });
                    } finally {
                      setVerifying(false);
                    }
                  }}
                >
                  {t('edit.verify')}
                </Button>
              </div>
              {verify && (
                <div style={{ marginTop: 6 }}>
                  <TestResultView result={verify} testId="edit-verify-result" />
                </div>
              )}
            </Field>
            <Field label={t('edit.partitions')} path={p + '.partitions'} errors={errors} extra={t('edit.partitionsHint')}>
              <InputNumber
                value={draft.partitions ?? 0}
                precision={0}
                style={{ width: 160 }}
                onChange={(v) => setD({ partitions: typeof v === 'number' ? v : 0 })}
                {...tid('edit-partitions')}
              />
            </Field>
            <Field
              label={t('edit.partitionKey')}
              path={p + '.partitionKey'}
              errors={errors}
              extra={hashPK ? t('edit.partitionKeyHint') : t('edit.partitionKeyDisabled')}
            >
              <div {...tid('edit-partition-key')}>
                <Select
                  mode="multiple"
                  allowClear
                  disabled={!hashPK}
                  value={draft.partitionKey ?? []}
                  placeholder={t('edit.partitionKeyPlaceholder')}
                  onChange={(v) => setD({ partitionKey: v })}
                  options={columns.map((c) => ({
                    value: c.name,
                    label: (
                      <span>
                        {c.name}{' '}
                        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                          {c.type}
                          {c.primaryKey ? ' · PK' : ''}
                        </Typography.Text>
                      </span>
                    ),
                  }))}
                />
              </div>
              {colError && <Typography.Text type="danger">{colError}</Typography.Text>}
            </Field>
            <Field label={t('edit.dml')} path={p + '.dml'} errors={errors} extra={t('edit.opsHint')}>
              <div {...tid('edit-dml')}>
                <Checkbox.Group
                  value={draft.dml ?? dmlAll}
                  onChange={(v) => setD({ dml: v.length === dmlAll.length ? undefined : (v as string[]) })}
                  options={dmlAll.map((o) => ({ value: o, label: o.toUpperCase() }))}
                />
              </div>
            </Field>
            <Field label={t('edit.ddl')} path={p + '.ddl'} errors={errors}>
              <div {...tid('edit-ddl')}>
                <Checkbox
                  checked={(draft.ddl ?? ddlAll).length === ddlAll.length}
                  indeterminate={draft.ddl !== undefined && draft.ddl.length > 0 && draft.ddl.length < ddlAll.length}
                  onChange={(e) => setD({ ddl: e.target.checked ? undefined : [] })}
                  style={{ marginBottom: 6 }}
                >
                  {t('objects.selectAll')}
                </Checkbox>
                <Checkbox.Group
                  value={draft.ddl ?? ddlAll}
                  onChange={(v) => setD({ ddl: v.length === ddlAll.length ? undefined : (v as string[]) })}
                  style={{ display: 'grid', gridTemplateColumns: 'repeat(3, minmax(0, 1fr))', rowGap: 4, columnGap: 8 }}
                  options={ddlAll.map((o) => ({ value: o, label: o.toUpperCase() }))}
                />
              </div>
            </Field>
            {!spec.migrationTypes.incremental && (
              <Alert type="info" showIcon message={t('edit.opsIncrementalOnly')} style={{ marginBottom: 8 }} />
            )}
          </Form>
          {errors.length > 0 && (
            <Alert
              type="error"
              showIcon
              message={errors.map((e) => e.message).join('; ')}
              {...tid('edit-errors')}
            />
          )}
        </div>
      )}
    </Modal>
  );
}
