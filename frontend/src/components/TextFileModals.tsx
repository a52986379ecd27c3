import { useEffect, useRef, useState, type ReactNode } from 'react';
import { Alert, App, Button, Checkbox, Input, Modal, Space, Typography } from 'antd';
import { CopyOutlined, DownloadOutlined, UploadOutlined } from '@ant-design/icons';
import { inDesktop, type FieldError } from '../api';
import { useI18n } from '../i18n';
import { copyText, downloadText, ErrorList, readFileText, tid } from '../util';

/**
 * Shows exported text with Copy and Download. The text also goes to a Blob download once on
 * open when `autoDownload` is set (browsers); the modal keeps it usable inside Wails.
 */
export function ExportModal(props: {
  open: boolean;
  title: ReactNode;
  filename: string;
  load: (includeSecrets: boolean) => Promise<string>;
  onClose: () => void;
  secretsOption?: boolean;
  secretsWarning?: ReactNode;
  autoDownload?: boolean;
  mime?: string;
}) {
  const { t } = useI18n();
  const { message } = App.useApp();
  const [text, setText] = useState('');
  const [err, setErr] = useState('');
  const [secrets, setSecrets] = useState(false);
  const [loading, setLoading] = useState(false);
  const downloaded = useRef(false);
  // Blob downloads would navigate the Wails webview away: there the modal is the export.
  const canDownload = !inDesktop();

  useEffect(() => {
    if (!props.open) {
      downloaded.current = false;
      setSecrets(false);
      setText('');
      setErr('');
      return;
    }
    let live = true;
    setLoading(true);
    props
      .load(secrets)
      .then((s) => {
        if (!live) return;
        setText(s ?? '');
        setErr('');
        if (props.autoDownload && canDownload && !downloaded.current && s) {
          downloaded.current = true;
          downloadText(props.filename, s, props.mime);
        }
      })
      .catch((e: Error) => live && setErr(e.message))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.open, secrets]);

  return (
    <Modal
      open={props.open}
      title={props.title}
      onCancel={props.onClose}
      width={760}
      destroyOnHidden
      footer={
        <Space>
          <Button
            icon={<CopyOutlined />}
            disabled={!text}
            {...tid('export-copy')}
            onClick={async () => {
              if (await copyText(text)) message.success(t('common.copied'));
              else message.error(t('common.copyFailed'));
            }}
          >
            {t('common.copy')}
          </Button>
          {canDownload && (
            <Button
              icon={<DownloadOutlined />}
              disabled={!text}
              {...tid('export-download')}
              onClick={() => downloadText(props.filename, text, props.mime)}
            >
              {t('common.download')}
            </Button>
          )}
          <Button type="primary" onClick={props.onClose} {...tid('export-close')}>
            {t('common.close')}
          </Button>
        </Space>
      }
    >
      <div {...tid('export-modal')}>
        {props.secretsOption && (
          <div style={{ marginBottom: 8 }}>
            <span {...tid('export-include-secrets')}>
              <Checkbox checked={secrets} onChange={(e) => setSecrets(e.target.checked)}>
                {t('export.includeSecrets')}
              </Checkbox>
            </span>
            {secrets && (
              <Alert style={{ marginTop: 8 }} type="warning" showIcon message={props.secretsWarning ?? t('export.secretsWarning')} />
            )}
          </div>
        )}
        {err && <Alert type="error" showIcon message={err} style={{ marginBottom: 8 }} {...tid('export-error')} />}
        <Typography.Paragraph type="secondary" style={{ marginBottom: 6 }}>
          {t('export.fileHint', { file: props.filename })}
        </Typography.Paragraph>
        <Input.TextArea
          value={loading && !text ? t('common.loading') : text}
          readOnly
          autoSize={{ minRows: 10, maxRows: 22 }}
          className="tb-mono"
          {...tid('export-text')}
          data-loaded={text ? 'true' : 'false'}
        />
      </div>
    </Modal>
  );
}

/** Paste or choose a file, then import; shows every field error with its path. */
export function ImportModal(props: {
  open: boolean;
  title: ReactNode;
  hint?: ReactNode;
  onClose: () => void;
  submit: (text: string) => Promise<{ errors: FieldError[]; ok: ReactNode | null }>;
}) {
  const { t } = useI18n();
  const [text, setText] = useState('');
  const [errors, setErrors] = useState<FieldError[]>([]);
  const [fail, setFail] = useState('');
  const [ok, setOk] = useState<ReactNode | null>(null);
  const [busy, setBusy] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (props.open) {
      setText('');
      setErrors([]);
      setFail('');
      setOk(null);
    }
  }, [props.open]);

  const run = async () => {
    setBusy(true);
    setErrors([]);
    setFail('');
    setOk(null);
    try {
      const r = await props.submit(text);
      setErrors(r.errors);
      setOk(r.ok);
    } catch (e) {
      setFail((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={props.open}
      title={props.title}
      onCancel={props.onClose}
      width={760}
      destroyOnHidden
      footer={
        <Space>
          <Button onClick={props.onClose} {...tid('import-close')}>
            {ok ? t('common.close') : t('common.cancel')}
          </Button>
          <Button type="primary" loading={busy} disabled={!text.trim()} onClick={run} {...tid('import-submit')}>
            {t('common.import')}
          </Button>
        </Space>
      }
    >
      <div {...tid('import-modal')}>
        {props.hint && (
          <Typography.Paragraph type="secondary" style={{ marginBottom: 8 }}>
            {props.hint}
          </Typography.Paragraph>
        )}
        <Space style={{ marginBottom: 8 }}>
          <Button icon={<UploadOutlined />} onClick={() => fileRef.current?.click()} {...tid('import-choose-file')}>
            {t('import.chooseFile')}
          </Button>
          <input
            ref={fileRef}
            type="file"
            accept=".json,application/json,text/plain"
            style={{ display: 'none' }}
            {...tid('import-file')}
            onChange={async (e) => {
              const f = e.target.files?.[0];
              if (f) setText(await readFileText(f));
              e.target.value = '';
            }}
          />
          <Typography.Text type="secondary">{t('import.orPaste')}</Typography.Text>
        </Space>
        <Input.TextArea
          value={text}
          onChange={(e) => setText(e.target.value)}
          autoSize={{ minRows: 10, maxRows: 20 }}
          className="tb-mono"
          placeholder={t('import.placeholder')}
          {...tid('import-text')}
        />
        {fail && <Alert style={{ marginTop: 10 }} type="error" showIcon message={fail} {...tid('import-failure')} />}
        {errors.length > 0 && (
          <Alert
            style={{ marginTop: 10 }}
            type="error"
            showIcon
            message={t('import.invalid', { n: errors.length })}
            description={<ErrorList errors={errors} testId="import-errors" />}
          />
        )}
        {ok && <Alert style={{ marginTop: 10 }} type="success" showIcon message={ok} {...tid('import-success')} />}
      </div>
    </Modal>
  );
}
