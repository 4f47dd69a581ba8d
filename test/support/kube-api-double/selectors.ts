// Label and field selectors as the API server parses them (the subset clients send):
// labels `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`; fields `path=value`, `path!=value`.

type Obj = { metadata?: { labels?: Record<string, string> } } & Record<string, unknown>;
export type Matcher = (obj: Obj) => boolean;

export class SelectorError extends Error {}

/** Splits on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) { out.push(cur); cur = ''; continue; }
    cur += ch;
  }
  if (cur.trim() !== '') out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

const SET_TERM = /^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/;
const EQ_TERM = /^([^\s!=]+)\s*(==|=|!=)\s*(\S*)$/;
const EXISTS_TERM = /^(!?)([^\s!=(),]+)$/;

export function parseLabelSelector(selector: string | undefined): Matcher {
  if (!selector) return () => true;
  const tests: Array<(labels: Record<string, string>) => boolean> = [];
  for (const term of splitTerms(selector)) {
    let m = SET_TERM.exec(term);
    if (m) {
      const [, key, op, list] = m;
      const values = new Set(list.split(',').map((v) => v.trim()).filter((v) => v !== ''));
      tests.push(op === 'in' ? (l) => key in l && values.has(l[key]) : (l) => !(key in l) || !values.has(l[key]));
      continue;
    }
    m = EQ_TERM.exec(term);
    if (m) {
      const [, key, op, value] = m;
      tests.push(op === '!=' ? (l) => l[key] !== value : (l) => l[key] === value);
      continue;
    }
    m = EXISTS_TERM.exec(term);
    if (m) {
      const [, not, key] = m;
      tests.push(not ? (l) => !(key in l) : (l) => key in l);
      continue;
    }
    throw new SelectorError(`unable to parse requirement: "${term}" in labelSelector`);
  }
  return (obj) => {
    const labels = obj.metadata?.labels ?? {};
    return tests.every((t) => t(labels));
  };
}

function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur === undefined || cur === null ? '' : String(cur);
}

export function parseFieldSelector(selector: string | undefined): Matcher {
  if (!selector) return () => true;
  const tests: Matcher[] = [];
  for (const term of splitTerms(selector)) {
    const m = EQ_TERM.exec(term);
    if (!m) throw new SelectorError(`invalid field selector: "${term}" in fieldSelector`);
    const [, path, op, value] = m;
    tests.push(op === '!=' ? (o) => fieldValue(o, path) !== value : (o) => fieldValue(o, path) === value);
  }
  return (obj) => tests.every((t) => t(obj));
}
