// Parser for Go's text/template language (the subset Helm charts use): text and actions with
// trim markers, comments, pipelines, variables, if/else if/range/with/define/template/block,
// break/continue. The tree it builds is run by exec.ts.

export class TemplateError extends Error {}

/** Go integers are a distinct kind from floats (`eq 1 1.0` fails in Go); bigint keeps them apart. */
export type Value = unknown;

export type Arg =
  | { t: 'dot' }
  | { t: 'field'; chain: string[] }
  | { t: 'var'; name: string; chain: string[] }
  | { t: 'ident'; name: string }
  | { t: 'lit'; value: Value }
  | { t: 'pipe'; pipe: Pipe; chain: string[] };

export interface Cmd { args: Arg[] }
export interface Pipe { decl: string[]; assign: boolean; cmds: Cmd[] }

export type Node =
  | { t: 'text'; text: string }
  | { t: 'action'; pipe: Pipe; pos: string }
  | { t: 'if' | 'with'; pipe: Pipe; list: Node[]; elseList: Node[] | null; pos: string }
  | { t: 'range'; pipe: Pipe; list: Node[]; elseList: Node[] | null; pos: string }
  | { t: 'template'; name: string; pipe: Pipe | null; pos: string }
  | { t: 'break' | 'continue'; pos: string };

export interface Parsed { root: Node[]; defines: Map<string, Node[]> }

interface Segment { text?: string; action?: string; pos: string }

const SPACE = new Set([' ', '\t', '\r', '\n']);

/** Splits the source into text and action segments, applying `{{-` / `-}}` trimming. */
function segments(src: string, name: string): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  let trimNext = false;
  const lineAt = (at: number) => src.slice(0, at).split('\n').length;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    let text = open < 0 ? src.slice(i) : src.slice(i, open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, '');
    trimNext = false;
    if (open < 0) { if (text) out.push({ text, pos: `${name}:${lineAt(i)}` }); break; }
    let start = open + 2;
    if (src[start] === '-' && SPACE.has(src[start + 1] ?? '')) { text = text.replace(/[ \t\r\n]+$/, ''); start += 2; }
    if (text) out.push({ text, pos: `${name}:${lineAt(i)}` });
    const close = findClose(src, start, name, lineAt(open));
    let body = src.slice(start, close);
    if (body.endsWith(' -') || body.endsWith('\t-') || body.endsWith('\n-')) { body = body.slice(0, -2); trimNext = true; }
    else if (body === '-') { body = ''; trimNext = true; }
    out.push({ action: body, pos: `${name}:${lineAt(open)}` });
    i = close + 2;
  }
  return out;
}

/** Index of the `}}` closing an action, skipping quoted strings and comments. */
function findClose(src: string, i: number, name: string, line: number): number {
  while (i < src.length) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) break;
      i = end + 2;
    } else if (c === '"' || c === '`' || c === "'") {
      let j = i + 1;
      while (j < src.length && src[j] !== c) j += c !== '`' && src[j] === '\\' ? 2 : 1;
      i = j + 1;
    } else if (c === '}' && src[i + 1] === '}') return i;
    else i++;
  }
  throw new TemplateError(`${name}:${line}: unclosed action`);
}

// ---- lexer for the inside of one action ----

type Tok =
  | { k: 'lparen' | 'rparen' | 'pipe' | 'declare' | 'assign' | 'comma' }
  | { k: 'field'; chain: string[] }          // .a.b  (also "." alone: chain [])
  | { k: 'chain'; chain: string[] }          // .a.b right after ")": fields of the parenthesized value
  | { k: 'var'; name: string; chain: string[] } // $x.a
  | { k: 'ident'; name: string }
  | { k: 'lit'; value: Value };

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;
const NUMBER = /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d[\d_]*([eE][+-]?\d+)?)/;
const FIELD_CHAIN = /^(\.[A-Za-z_][A-Za-z0-9_]*)+/;

function lex(s: string, pos: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  const fail = (msg: string): never => { throw new TemplateError(`${pos}: ${msg}`); };
  while (i < s.length) {
    const c = s[i]!;
    const rest = s.slice(i);
    if (SPACE.has(c)) { i++; continue; }
    if (c === '(') { toks.push({ k: 'lparen' }); i++; continue; }
    if (c === ')') {
      toks.push({ k: 'rparen' }); i++;
      const m = FIELD_CHAIN.exec(s.slice(i));
      if (m) { toks.push({ k: 'chain', chain: m[0].slice(1).split('.') }); i += m[0].length; }
      continue;
    }
    if (c === '|') { toks.push({ k: 'pipe' }); i++; continue; }
    if (c === ',') { toks.push({ k: 'comma' }); i++; continue; }
    if (rest.startsWith(':=')) { toks.push({ k: 'declare' }); i += 2; continue; }
    if (c === '=') { toks.push({ k: 'assign' }); i++; continue; }
    if (c === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === '\\' ? 2 : 1;
      if (j >= s.length) fail('unterminated quoted string');
      try { toks.push({ k: 'lit', value: JSON.parse(s.slice(i, j + 1)) as string }); } catch { fail(`bad string ${s.slice(i, j + 1)}`); }
      i = j + 1; continue;
    }
    if (c === '`') {
      const j = s.indexOf('`', i + 1);
      if (j < 0) fail('unterminated raw string');
      toks.push({ k: 'lit', value: s.slice(i + 1, j) }); i = j + 1; continue;
    }
    if (c === "'") {
      const j = s.indexOf("'", i + 1);
      if (j < 0) fail('unterminated character constant');
      const ch = JSON.parse(`"${s.slice(i + 1, j).replace(/"/g, '\\"')}"`) as string;
      toks.push({ k: 'lit', value: BigInt(ch.codePointAt(0) ?? 0) }); i = j + 1; continue;
    }
    if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(rest)!;
      i += m[0].length;
      const f = FIELD_CHAIN.exec(s.slice(i));
      let chain: string[] = [];
      if (f) { chain = f[0].slice(1).split('.'); i += f[0].length; }
      toks.push({ k: 'var', name: m[0], chain }); continue;
    }
    if (c === '.' && !/[0-9]/.test(s[i + 1] ?? '')) {
      const f = FIELD_CHAIN.exec(rest);
      if (f) { toks.push({ k: 'field', chain: f[0].slice(1).split('.') }); i += f[0].length; }
      else { toks.push({ k: 'field', chain: [] }); i++; }
      continue;
    }
    const num = NUMBER.exec(rest);
    if (num && num[0] !== '' && /[0-9]/.test(num[0])) {
      toks.push({ k: 'lit', value: parseNumber(num[0], pos) }); i += num[0].length; continue;
    }
    const id = IDENT.exec(rest);
    if (id) {
      const name = id[0];
      if (name === 'true' || name === 'false') toks.push({ k: 'lit', value: name === 'true' });
      else if (name === 'nil') toks.push({ k: 'lit', value: null });
      else toks.push({ k: 'ident', name });
      i += name.length; continue;
    }
    fail(`unexpected "${c}" in action`);
  }
  return toks;
}

function parseNumber(text: string, pos: string): Value {
  const t = text.replace(/_/g, '');
  if (/^[+-]?0[xXbBoO]/.test(t)) {
    const neg = t.startsWith('-');
    const v = BigInt(t.replace(/^[+-]/, ''));
    return neg ? -v : v;
  }
  if (/^[+-]?\d+$/.test(t)) return BigInt(t);
  const f = Number(t);
  if (Number.isNaN(f)) throw new TemplateError(`${pos}: bad number syntax: ${text}`);
  return f;
}

// ---- pipeline parser over tokens ----

class TokStream {
  i = 0;
  constructor(readonly toks: Tok[], readonly pos: string) {}
  peek(): Tok | undefined { return this.toks[this.i]; }
  next(): Tok | undefined { return this.toks[this.i++]; }
  fail(msg: string): never { throw new TemplateError(`${this.pos}: ${msg}`); }
}

function parsePipe(ts: TokStream, allowDecl: boolean, inParen = false): Pipe {
  const pipe: Pipe = { decl: [], assign: false, cmds: [] };
  if (allowDecl) {
    // `$x :=`, `$x =`, `$i, $v :=`
    const save = ts.i;
    const vars: string[] = [];
    for (;;) {
      const t = ts.peek();
      if (t?.k !== 'var' || t.chain.length) break;
      vars.push(t.name); ts.next();
      const n = ts.peek();
      if (n?.k === 'comma' && vars.length === 1) { ts.next(); continue; }
      if (n?.k === 'declare' || n?.k === 'assign') { ts.next(); pipe.decl = vars; pipe.assign = n.k === 'assign'; }
      break;
    }
    if (!pipe.decl.length) ts.i = save;
  }
  let cmd: Cmd = { args: [] };
  for (;;) {
    const t = ts.peek();
    if (!t || (t.k === 'rparen' && inParen)) break;
    ts.next();
    if (t.k === 'pipe') {
      if (!cmd.args.length) ts.fail('missing command before "|"');
      pipe.cmds.push(cmd); cmd = { args: [] }; continue;
    }
    cmd.args.push(argFrom(t, ts));
  }
  if (cmd.args.length) pipe.cmds.push(cmd);
  else if (pipe.cmds.length) ts.fail('missing command after "|"');
  return pipe;
}

function argFrom(t: Tok, ts: TokStream): Arg {
  switch (t.k) {
    case 'field': return t.chain.length ? { t: 'field', chain: t.chain } : { t: 'dot' };
    case 'var': return { t: 'var', name: t.name, chain: t.chain };
    case 'ident': return { t: 'ident', name: t.name };
    case 'lit': return { t: 'lit', value: t.value };
    case 'lparen': {
      const inner = parsePipe(ts, true, true);
      if (ts.next()?.k !== 'rparen') ts.fail('unclosed left paren');
      const after = ts.peek();
      let chain: string[] = [];
      if (after?.k === 'chain') { chain = after.chain; ts.next(); }
      return { t: 'pipe', pipe: inner, chain };
    }
    default: return ts.fail(`unexpected "${t.k}" in command`);
  }
}

// ---- control structure ----

const KEYWORDS = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

class Parser {
  i = 0;
  defines = new Map<string, Node[]>();
  constructor(readonly segs: Segment[], readonly name: string) {}

  /** Parses nodes until one of `stops` (keyword at the start of an action); returns the stop action's tokens. */
  list(stops: string[]): { nodes: Node[]; stop: string | null; rest: TokStream | null } {
    const nodes: Node[] = [];
    while (this.i < this.segs.length) {
      const seg = this.segs[this.i++]!;
      if (seg.text !== undefined) { nodes.push({ t: 'text', text: seg.text }); continue; }
      const body = seg.action!.trim();
      if (body.startsWith('/*')) {
        if (!body.endsWith('*/')) throw new TemplateError(`${seg.pos}: comment must be the whole action`);
        continue;
      }
      const ts = new TokStream(lex(body, seg.pos), seg.pos);
      const first = ts.peek();
      const kw = first?.k === 'ident' && KEYWORDS.has(first.name) ? first.name : null;
      if (kw && stops.includes(kw)) { ts.next(); return { nodes, stop: kw, rest: ts }; }
      if (!kw) {
        if (!first) throw new TemplateError(`${seg.pos}: missing value for command`);
        nodes.push({ t: 'action', pipe: this.pipeAll(ts, true), pos: seg.pos });
        continue;
      }
      ts.next();
      nodes.push(this.keyword(kw, ts, seg.pos));
    }
    if (stops.length) throw new TemplateError(`${this.name}: unexpected EOF (missing {{end}})`);
    return { nodes, stop: null, rest: null };
  }

  pipeAll(ts: TokStream, allowDecl: boolean): Pipe {
    const p = parsePipe(ts, allowDecl);
    if (ts.peek()) ts.fail('unexpected token in pipeline');
    return p;
  }

  keyword(kw: string, ts: TokStream, pos: string): Node {
    switch (kw) {
      case 'if': case 'with': case 'range': return this.branch(kw, ts, pos);
      case 'break': case 'continue': return { t: kw, pos };
      case 'template': {
        const name = ts.next();
        if (name?.k !== 'lit' || typeof name.value !== 'string') ts.fail('template name must be a string');
        const pipe = ts.peek() ? this.pipeAll(ts, false) : null;
        return { t: 'template', name: name.value as string, pipe, pos };
      }
      case 'define': case 'block': {
        const name = ts.next();
        if (name?.k !== 'lit' || typeof name.value !== 'string') ts.fail(`${kw} name must be a string`);
        const pipe = kw === 'block' ? this.pipeAll(ts, false) : null;
        const body = this.list(['end']);
        this.defines.set(name.value as string, body.nodes);
        if (kw === 'block') return { t: 'template', name: name.value as string, pipe, pos };
        return { t: 'text', text: '' };
      }
      default: throw new TemplateError(`${pos}: unexpected {{${kw}}}`);
    }
  }

  branch(kw: 'if' | 'with' | 'range', ts: TokStream, pos: string): Node {
    const pipe = this.pipeAll(ts, true);
    const body = this.list(['else', 'end']);
    let elseList: Node[] | null = null;
    if (body.stop === 'else') {
      const r = body.rest!;
      const chained = r.peek();
      if (chained?.k === 'ident' && (chained.name === 'if' || chained.name === 'with')) {
        // `else if` / `else with`: the chained branch consumes the shared {{end}}.
        r.next();
        elseList = [this.branch(chained.name, r, pos)];
      } else {
        if (r.peek()) r.fail('unexpected tokens after else');
        elseList = this.list(['end']).nodes;
      }
    }
    return { t: kw, pipe, list: body.nodes, elseList, pos };
  }
}

/** Parses one template source; `name` is used in error positions (`name:line`). */
export function parseTemplate(src: string, name: string): Parsed {
  const p = new Parser(segments(src, name), name);
  const { nodes } = p.list([]);
  return { root: nodes, defines: p.defines };
}
