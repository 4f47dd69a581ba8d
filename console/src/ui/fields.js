// Form controls driven by field specs (see ../kinds.js). Every control has a visible label,
// and a server error for the field is shown right under it and announced (aria-describedby).
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getPath, setPath } from '../paths.js';
import { refUuid } from '../refs.js';

function Described({ id, error, help }) {
  return html`
    ${help ? html`<p class="help" id=${`${id}-help`}>${help}</p>` : null}
    ${error ? html`<p class="field-error" id=${`${id}-error`} role="alert">${error}</p>` : null}`;
}

const describedBy = (id, error, help) => [help ? `${id}-help` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;

/** A text box over a codec (IP, prefix, lines…): keeps what was typed while the value round-trips. */
function CodecInput({ id, codec, value, onChange, multiline, invalid, describedby, placeholder, rows }) {
  const [text, setText] = useState(() => codec.toText(value));
  // A value that changes from outside (the object reloaded) replaces the text; our own edits do not.
  const key = JSON.stringify(value ?? null);
  const last = useRef(key);
  useEffect(() => {
    if (key !== last.current) { last.current = key; setText(codec.toText(value)); }
  }, [key]);
  const onInput = (e) => {
    const v = codec.fromText(e.currentTarget.value);
    last.current = JSON.stringify(v ?? null);
    setText(e.currentTarget.value);
    onChange(v);
  };
  return multiline
    ? html`<textarea id=${id} rows=${rows ?? 4} value=${text} onInput=${onInput} aria-invalid=${invalid} aria-describedby=${describedby} placeholder=${placeholder}></textarea>`
    : html`<input id=${id} type="text" value=${text} onInput=${onInput} aria-invalid=${invalid} aria-describedby=${describedby} placeholder=${placeholder}/>`;
}

function RefSelect({ id, spec, value, onChange, options, invalid, describedby }) {
  const current = value ? refUuid(value) : '';
  const choices = options?.[spec.refType] ?? [];
  return html`<select id=${id} aria-invalid=${invalid} aria-describedby=${describedby}
      onChange=${(e) => onChange(e.currentTarget.value ? `/api/${spec.refType}/${e.currentTarget.value}` : undefined)}>
    <option value="" selected=${!current}>${spec.required ? '— choose —' : '— none —'}</option>
    ${choices.map((o) => html`<option value=${o.uuid} selected=${o.uuid === current}>${o.name}</option>`)}
    ${current && !choices.some((o) => o.uuid === current) ? html`<option value=${current} selected>${current}</option>` : null}
  </select>`;
}

function RefMulti({ id, spec, value, onChange, options, describedby }) {
  const chosen = new Set((value ?? []).map((v) => refUuid(spec.itemKey ? v[spec.itemKey] : v)));
  const choices = options?.[spec.refType] ?? [];
  const toggle = (uuid, on) => {
    const next = new Set(chosen);
    if (on) next.add(uuid); else next.delete(uuid);
    const refs = [...next].map((u) => `/api/${spec.refType}/${u}`);
    onChange(spec.itemKey ? refs.map((r) => ({ [spec.itemKey]: r })) : refs);
  };
  if (!choices.length) return html`<p class="muted" id=${id}>No ${spec.refType} objects yet.</p>`;
  return html`<div class="checks" id=${id} role="group" aria-describedby=${describedby}>
    ${choices.map((o) => html`<label class="check"><input type="checkbox" checked=${chosen.has(o.uuid)}
      onChange=${(e) => toggle(o.uuid, e.currentTarget.checked)}/> ${o.name}</label>`)}
  </div>`;
}

function Rows({ id, spec, value, onChange, options, errorFor, loc }) {
  const rows = value ?? [];
  const update = (i, row) => onChange(rows.map((r, j) => (j === i ? row : r)));
  return html`<div class="rows" id=${id}>
    ${rows.map((row, i) => html`<fieldset class="row-item" key=${i}>
      <legend>${spec.itemLabel ?? 'Item'} ${i + 1}</legend>
      <div class="row-fields">
        ${spec.fields.map((f) => html`<${Field} spec=${f} idPrefix=${`${id}-${i}`} obj=${row} locPrefix=${`${loc}.${i}.`}
            onObj=${(r) => update(i, r)} options=${options} errorFor=${errorFor}/>`)}
      </div>
      <button type="button" class="link danger" onClick=${() => onChange(rows.filter((_, j) => j !== i))}
        aria-label=${`Remove ${spec.itemLabel ?? 'item'} ${i + 1}`}>Remove</button>
    </fieldset>`)}
    <button type="button" class="secondary" onClick=${() => onChange([...rows, spec.newRow ? spec.newRow() : {}])}>
      Add ${(spec.itemLabel ?? 'item').toLowerCase()}</button>
  </div>`;
}

function Control({ id, spec, value, onChange, options, errorFor, invalid, describedby, loc }) {
  switch (spec.type) {
    case 'number':
      return html`<input id=${id} type="number" value=${value ?? ''} min=${spec.min} max=${spec.max}
        aria-invalid=${invalid} aria-describedby=${describedby}
        onInput=${(e) => onChange(e.currentTarget.value === '' ? undefined : Number(e.currentTarget.value))}/>`;
    case 'bool':
      return html`<input id=${id} type="checkbox" checked=${value ?? spec.default ?? false}
        aria-describedby=${describedby} onChange=${(e) => onChange(e.currentTarget.checked)}/>`;
    case 'select':
      return html`<select id=${id} aria-invalid=${invalid} aria-describedby=${describedby}
          onChange=${(e) => onChange(e.currentTarget.value || undefined)}>
        ${spec.required ? null : html`<option value="">— default —</option>`}
        ${spec.options.map((o) => html`<option value=${o} selected=${o === value}>${spec.optionLabel ? spec.optionLabel(o) : o}</option>`)}
        ${value && !spec.options.includes(value) ? html`<option value=${value} selected>${value}</option>` : null}
      </select>`;
    case 'ref':
      return html`<${RefSelect} ...${{ id, spec, value, onChange, options, invalid, describedby }}/>`;
    case 'refs':
      return html`<${RefMulti} ...${{ id, spec, value, onChange, options, describedby }}/>`;
    case 'rows':
      return html`<${Rows} ...${{ id, spec, value, onChange, options, errorFor, loc }}/>`;
    case 'codec':
      return html`<${CodecInput} ...${{ id, codec: spec.codec, value, onChange, invalid, describedby,
        multiline: spec.multiline, placeholder: spec.placeholder, rows: spec.rows }}/>`;
    case 'secret':
      return html`<textarea id=${id} rows=${spec.rows ?? 6} value=${value ?? ''} autocomplete="off" spellcheck="false"
        aria-invalid=${invalid} aria-describedby=${describedby} placeholder=${spec.placeholder}
        onInput=${(e) => onChange(e.currentTarget.value || undefined)}></textarea>`;
    case 'textarea':
      return html`<textarea id=${id} rows=${spec.rows ?? 6} value=${value ?? ''} spellcheck="false"
        aria-invalid=${invalid} aria-describedby=${describedby} placeholder=${spec.placeholder}
        onInput=${(e) => onChange(e.currentTarget.value || undefined)}></textarea>`;
    default:
      return html`<input id=${id} type="text" value=${value ?? ''} required=${spec.required}
        aria-invalid=${invalid} aria-describedby=${describedby} placeholder=${spec.placeholder}
        onInput=${(e) => onChange(e.currentTarget.value)}/>`;
  }
}

/**
 * One labelled field of `obj` at `spec.key`. Its location in the form (`configured_subnets.0.prefix`)
 * is `locPrefix + spec.key`; `errorFor(location)` gives the server's message for it.
 */
export function Field({ spec, obj, onObj, options, errorFor, idPrefix = 'f', locPrefix = '' }) {
  if (spec.when && !spec.when(obj)) return null;
  const id = `${idPrefix}-${spec.key.replace(/\./g, '-')}`;
  const loc = locPrefix + spec.key;
  const error = errorFor?.(loc) ?? null;
  const value = getPath(obj, spec.key);
  const onChange = (v) => onObj(setPath(obj, spec.key, v));
  const dby = describedBy(id, error, spec.help);
  const control = html`<${Control} id=${id} spec=${spec} value=${value} onChange=${onChange} options=${options}
    errorFor=${errorFor} invalid=${error ? 'true' : undefined} describedby=${dby} loc=${loc}/>`;
  const grouped = spec.type === 'rows' || spec.type === 'refs';
  return html`<div class=${`field field-${spec.type ?? 'text'}${error ? ' has-error' : ''}${spec.wide ? ' wide' : ''}`} data-field=${spec.key}>
    ${spec.type === 'bool'
      ? html`<label class="check" for=${id}>${control} ${spec.label}</label>`
      : grouped
        ? html`<span class="label" id=${`${id}-label`}>${spec.label}${spec.required ? ' *' : ''}</span>${control}`
        : html`<label for=${id}>${spec.label}${spec.required ? ' *' : ''}</label>${control}`}
    <${Described} id=${id} error=${error} help=${spec.help}/>
  </div>`;
}
