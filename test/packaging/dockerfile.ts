// A small Dockerfile reader for the tests (no Docker engine here): instructions by stage.

export interface Instruction { op: string; args: string; line: number }
export interface Stage { base: string; name?: string; ins: Instruction[] }

/** Dockerfile instructions (continuation lines joined, comments dropped), grouped by stage. */
export function parseDockerfile(text: string): { args: Instruction[]; stages: Stage[] } {
  const ins: Instruction[] = [];
  let buf = '';
  let start = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!buf && (line === '' || line.startsWith('#'))) return;
    if (line.startsWith('#')) return;
    if (!buf) start = i + 1;
    buf += (buf ? ' ' : '') + line.replace(/\\$/, '').trim();
    if (!line.endsWith('\\')) {
      const m = /^(\S+)\s*(.*)$/.exec(buf)!;
      ins.push({ op: m[1]!.toUpperCase(), args: m[2]!, line: start });
      buf = '';
    }
  });
  const args: Instruction[] = [];
  const stages: Stage[] = [];
  for (const x of ins) {
    if (x.op === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(x.args)!;
      stages.push({ base: m[1]!, name: m[2], ins: [] });
    } else if (stages.length) stages[stages.length - 1]!.ins.push(x);
    else args.push(x);
  }
  return { args, stages };
}

/** The stages a target is built from, base first (FROM <stage> chains). */
export function stageChain(stages: Stage[], name: string): Stage[] {
  const s = stages.find((x) => x.name === name);
  if (!s) throw new Error(`no stage ${name}`);
  return stages.some((x) => x.name === s.base) ? [...stageChain(stages, s.base), s] : [s];
}
