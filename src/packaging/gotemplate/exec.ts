// Runs parsed Go templates. A TemplateSet holds every file and `define` of a chart (as Helm
// parses them together), so `include`/`template` reach helpers in _helpers.tpl.
import { parseTemplate, TemplateError, type Arg, type Cmd, type Node, type Parsed, type Pipe, type Value } from './parse.js';
import { isMap, kindOf, printValue, truth } from './values.js';

/** A template function; `call` lets functions such as include/tpl run templates of the same set. */
export type TemplateFunc = (call: FuncCall, ...args: Value[]) => Value;
export interface FuncCall {
  set: TemplateSet;
  /** Renders a `define`d template (Helm's include). */
  include(name: string, data: Value): string;
  /** Renders a string as a template with the same functions and defines (Helm's tpl). */
  tpl(src: string, data: Value): string;
}

const MAX_INCLUDE_DEPTH = 1000; // Helm's recursion limit for include
class Break { }
class Continue { }
const BREAK = new Break();
const CONTINUE = new Continue();

interface Var { name: string; value: Value }

export class TemplateSet {
  private readonly files = new Map<string, Node[]>();
  private readonly defines = new Map<string, Node[]>();
  private depth = 0;

  constructor(private readonly funcs: Record<string, TemplateFunc>) {}

  /** Parses a file; its defines join the set (a later file's define wins, as in Helm). */
  add(name: string, src: string): void {
    this.addParsed(name, parseTemplate(src, name));
  }

  /** Adds a file parsed earlier (parse trees are never changed by execution, so they can be shared). */
  addParsed(name: string, parsed: Parsed): void {
    this.files.set(name, parsed.root);
    for (const [k, v] of parsed.defines) this.defines.set(k, v);
  }

  has(name: string): boolean { return this.files.has(name); }

  /** Renders one added file with `data` as dot and `$`. */
  execute(name: string, data: Value): string {
    const root = this.files.get(name);
    if (!root) throw new TemplateError(`no template "${name}"`);
    return this.run(root, data);
  }

  include(name: string, data: Value): string {
    const body = this.defines.get(name);
    if (!body) throw new TemplateError(`no template "${name}" associated with template`);
    if (++this.depth > MAX_INCLUDE_DEPTH) { this.depth = 0; throw new TemplateError(`rendering template has a nested reference name: ${name}: unable to execute template`); }
    try {
      return this.run(body, data);
    } catch (e) {
      // JavaScript's stack may end before Helm's depth limit does: same error either way.
      if (e instanceof RangeError) throw new TemplateError(`rendering template has a nested reference name: ${name}: unable to execute template`);
      throw e;
    } finally { this.depth--; }
  }

  tpl(src: string, data: Value, name = 'tpl'): string {
    const parsed = parseTemplate(src, name);
    for (const [k, v] of parsed.defines) this.defines.set(k, v);
    return this.run(parsed.root, data);
  }

  private run(nodes: Node[], data: Value): string {
    const st = new Exec(this, this.funcs, data);
    st.list(nodes, data);
    return st.out.join('');
  }

  defineBody(name: string): Node[] | undefined { return this.defines.get(name); }
}

class Exec {
  out: string[] = [];
  vars: Var[];
  private readonly call: FuncCall;

  constructor(private readonly set: TemplateSet, private readonly funcs: Record<string, TemplateFunc>, root: Value) {
    this.vars = [{ name: '$', value: root }];
    this.call = {
      set,
      include: (name, data) => set.include(name, data),
      tpl: (src, data) => set.tpl(src, data),
    };
  }

  list(nodes: Node[], dot: Value): void {
    for (const n of nodes) this.node(n, dot);
  }

  private scoped(fn: () => void): void {
    const mark = this.vars.length;
    try { fn(); } finally { this.vars.length = mark; }
  }

  private node(n: Node, dot: Value): void {
    switch (n.t) {
      case 'text': this.out.push(n.text); return;
      case 'action': {
        const v = this.pipe(n.pipe, dot, n.pos);
        if (!n.pipe.decl.length) this.out.push(printValue(v));
        return;
      }
      case 'if': case 'with':
        this.scoped(() => {
          const v = this.pipe(n.pipe, dot, n.pos);
          if (truth(v)) this.list(n.list, n.t === 'with' ? v : dot);
          else if (n.elseList) this.list(n.elseList, dot);
        });
        return;
      case 'range': this.range(n, dot); return;
      case 'template': {
        const body = this.set.defineBody(n.name);
        if (!body) throw new TemplateError(`${n.pos}: no such template "${n.name}"`);
        const data = n.pipe ? this.pipe(n.pipe, dot, n.pos) : null;
        this.out.push(this.set.include(n.name, data));
        return;
      }
      case 'break': throw BREAK;
      case 'continue': throw CONTINUE;
    }
  }

  private range(n: Extract<Node, { t: 'range' }>, dot: Value): void {
    this.scoped(() => {
      const decl = n.pipe.decl;
      const v = this.pipe({ ...n.pipe, decl: [] }, dot, n.pos);
      const items: Array<[Value, Value]> = [];
      const k = kindOf(v);
      if (k === 'slice') (v as Value[]).forEach((x, i) => items.push([BigInt(i), x]));
      else if (k === 'map') for (const key of Object.keys(v as object).sort()) items.push([key, (v as Record<string, Value>)[key]]);
      else if (k === 'int') for (let i = 0n; i < (v as bigint); i++) items.push([i, i]);
      else if (k !== 'invalid') throw new TemplateError(`${n.pos}: range can't iterate over ${printValue(v)}`);
      if (!items.length) { if (n.elseList) this.list(n.elseList, dot); return; }
      for (const [key, elem] of items) {
        const mark = this.vars.length;
        if (decl.length === 1) this.vars.push({ name: decl[0]!, value: elem });
        else if (decl.length === 2) this.vars.push({ name: decl[0]!, value: key }, { name: decl[1]!, value: elem });
        try { this.list(n.list, elem); } catch (e) {
          if (e === BREAK) break;
          if (e !== CONTINUE) throw e;
        } finally { this.vars.length = mark; }
      }
    });
  }

  pipe(p: Pipe, dot: Value, pos: string): Value {
    let v: Value = undefined;
    let first = true;
    for (const c of p.cmds) {
      v = this.cmd(c, dot, pos, first ? undefined : { v });
      first = false;
    }
    if (v === undefined) v = null;
    if (p.decl.length) {
      if (p.assign) {
        const target = this.lookupVar(p.decl[0]!, pos);
        target.value = v;
      } else this.vars.push({ name: p.decl[0]!, value: v });
    }
    return v;
  }

  private lookupVar(name: string, pos: string): Var {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!;
    throw new TemplateError(`${pos}: undefined variable: ${name}`);
  }

  private cmd(c: Cmd, dot: Value, pos: string, piped?: { v: Value }): Value {
    const [head, ...rest] = c.args;
    if (head!.t === 'ident') return this.callFunc(head.name, rest, dot, pos, piped);
    // A field chain whose last element is a method (e.g. .Capabilities.APIVersions.Has "x").
    if ((head!.t === 'field' || head!.t === 'var') && (rest.length || piped)) {
      const { recv, name } = this.chainParent(head!, dot, pos);
      const m = recv !== null && typeof recv === 'object' ? (recv as Record<string, Value>)[name] : undefined;
      if (typeof m === 'function') {
        const args = rest.map((a) => this.arg(a, dot, pos));
        if (piped) args.push(piped.v);
        return (m as (...a: Value[]) => Value).apply(recv, args);
      }
    }
    if (rest.length || piped) throw new TemplateError(`${pos}: can't give argument to non-function ${describe(head!)}`);
    return this.arg(head!, dot, pos);
  }

  private chainParent(a: Arg, dot: Value, pos: string): { recv: Value; name: string } {
    const chain = a.t === 'field' || a.t === 'var' ? a.chain : [];
    if (!chain.length) throw new TemplateError(`${pos}: can't give argument to non-function ${describe(a)}`);
    const base = a.t === 'var' ? this.lookupVar(a.name, pos).value : dot;
    return { recv: this.walk(base, chain.slice(0, -1), pos), name: chain[chain.length - 1]! };
  }

  private callFunc(name: string, argNodes: Arg[], dot: Value, pos: string, piped?: { v: Value }): Value {
    // and/or stop at the first argument that decides the result (Go 1.18+).
    if (name === 'and' || name === 'or') {
      let v: Value = null;
      const all = argNodes.map((a) => () => this.arg(a, dot, pos));
      if (piped) all.push(() => piped.v);
      if (!all.length) throw new TemplateError(`${pos}: wrong number of args for ${name}: want at least 1 got 0`);
      for (const get of all) {
        v = get();
        if (name === 'and' ? !truth(v) : truth(v)) return v;
      }
      return v;
    }
    const fn = this.funcs[name];
    if (!fn) throw new TemplateError(`${pos}: function "${name}" not defined`);
    const args = argNodes.map((a) => this.arg(a, dot, pos));
    if (piped) args.push(piped.v);
    try {
      const r = fn(this.call, ...args);
      return r === undefined ? null : r;
    } catch (e) {
      if (e === BREAK || e === CONTINUE || e instanceof RangeError) throw e;
      const msg = (e as Error).message;
      if (e instanceof ExecutionError) throw new TemplateError(`execution error at (${pos}): ${msg}`);
      if (e instanceof TemplateError) throw e; // already carries its position (a nested include)
      throw new TemplateError(`${pos}: error calling ${name}: ${msg}`);
    }
  }

  private arg(a: Arg, dot: Value, pos: string): Value {
    switch (a.t) {
      case 'dot': return dot;
      case 'lit': return a.value;
      case 'field': return this.walk(dot, a.chain, pos);
      case 'var': return this.walk(this.lookupVar(a.name, pos).value, a.chain, pos);
      case 'pipe': return this.walk(this.pipe(a.pipe, dot, pos), a.chain, pos);
      case 'ident': return this.callFunc(a.name, [], dot, pos);
    }
  }

  private walk(v: Value, chain: string[], pos: string): Value {
    let cur = v;
    for (const name of chain) {
      if (cur === null || cur === undefined) throw new TemplateError(`${pos}: nil pointer evaluating interface {}.${name}`);
      if (!isMap(cur)) throw new TemplateError(`${pos}: can't evaluate field ${name} in type ${kindOf(cur)}`);
      const next = (cur as Record<string, Value>)[name];
      cur = typeof next === 'function' ? (next as () => Value).call(cur) : next === undefined ? null : next;
    }
    return cur;
  }
}

/** An error raised on purpose by a template (`fail`, `required`), reported with its position. */
export class ExecutionError extends TemplateError {}

function describe(a: Arg): string {
  switch (a.t) {
    case 'field': return `.${a.chain.join('.')}`;
    case 'var': return a.name + (a.chain.length ? `.${a.chain.join('.')}` : '');
    case 'lit': return printValue(a.value);
    default: return a.t;
  }
}
