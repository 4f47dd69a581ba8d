// Create / edit form for any object type of kinds.js. PUT sends the whole object back (the API
// replaces), with `_last_modified` so a concurrent change is refused (412) instead of lost.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, getObject, post, put, writeRefs } from '../api.js';
import { locateError } from '../errors.js';
import { navigate } from '../hooks.js';
import { inSentence, KINDS } from '../kinds.js';
import { prune } from '../paths.js';
import { useRefOptions } from '../refoptions.js';
import { Field } from '../ui/fields.js';
import { ErrorBox, Loading, Markers, PageHead } from '../ui/common.js';

/** Server-computed fields that must not be echoed back in a write. */
const READ_ONLY = ['url', 'vh_child_vs_uuid', 'server_count', 'system_default', 'oper_status', 'last_heartbeat', 'applied_version', 'se_connected'];

function bodyFor(kind, draft) {
  const body = { ...draft };
  for (const k of READ_ONLY) delete body[k];
  if (kind === 'sslkeyandcertificate' && body.certificate) {
    // Parsed fields are the controller's; only the PEM is ours to send.
    body.certificate = { certificate: body.certificate.certificate };
  }
  return writeRefs(prune(body) ?? {});
}

function useSubmit(specs) {
  const [error, setError] = useState(null);
  return {
    error,
    clear: () => setError(null),
    fail(e, draft) {
      const message = e instanceof ApiError ? e.message : String(e.message ?? e);
      setError({ message, status: e.status, key: locateError(message, specs, draft) });
    },
    errorFor: (loc) => (error && error.key === loc ? error.message : null),
  };
}

export function FormPage({ kind, uuid }) {
  const spec = KINDS[kind];
  const [draft, setDraft] = useState(uuid ? null : (spec.defaults?.() ?? {}));
  const [loadError, setLoadError] = useState(null);
  const [busy, setBusy] = useState(false);
  const options = useRefOptions(spec.fields);
  const submit = useSubmit(spec.fields);

  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (!uuid) return;
    getObject(kind, uuid).then(setDraft, setLoadError);
  }, [kind, uuid, version]);
  const reloadLatest = () => { submit.clear(); setVersion(version + 1); };

  const onSubmit = async (e) => {
    e.preventDefault();
    setBusy(true);
    submit.clear();
    try {
      const body = bodyFor(kind, draft);
      if (uuid) await put(`/api/${kind}/${uuid}`, body);
      else await post(`/api/${kind}`, body);
      navigate(`/list/${kind}`);
    } catch (err) {
      submit.fail(err, draft);
    } finally {
      setBusy(false);
    }
  };

  const title = uuid ? `Edit ${inSentence(spec.one)}${draft?.name ? ` ${draft.name}` : ''}` : `Create ${inSentence(spec.one)}`;
  if (loadError) return html`<div><${PageHead} title=${title}/><${ErrorBox} error=${loadError}/></div>`;
  if (!draft) return html`<${Loading}/>`;
  const formError = submit.error && !submit.error.key ? submit.error : null;
  return html`<div>
    <${PageHead} title=${title}>${draft.markers || draft.created_by ? html`<${Markers} markers=${draft.markers} createdBy=${draft.created_by}/>` : null}</${PageHead}>
    ${uuid && spec.summary ? html`<div class="card">${spec.summary(draft)}</div>` : null}
    <form class="card object-form" onSubmit=${onSubmit} noValidate aria-label=${title}>
      ${formError ? html`<div class="field-error form-error" role="alert">${formError.message}
        ${formError.status === 412 ? html` <button type="button" class="secondary" onClick=${reloadLatest}>Load the latest version (drops your changes)</button>` : null}</div>` : null}
      ${submit.error?.key ? html`<p class="sr-only" role="status">The controller refused the change: ${submit.error.message}</p>` : null}
      <div class="fields">
        ${spec.fields.map((f) => html`<${Field} spec=${f} obj=${draft} onObj=${setDraft} options=${options} errorFor=${submit.errorFor}/>`)}
      </div>
      <div class="form-actions">
        <button type="submit" class="primary" disabled=${busy}>${busy ? 'Saving…' : uuid ? 'Save' : 'Create'}</button>
        <a class="button secondary" href=${`#/list/${kind}`}>Cancel</a>
      </div>
    </form>
  </div>`;
}
