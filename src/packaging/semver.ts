// Version constraints as Helm and sprig's semverCompare read them (the subset charts use).

/** Compares x.y.z versions (a "-pre" suffix sorts before the release, as in semver). */
function compareVersions(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.replace(/^v/, '').split('-', 2) as [string, string | undefined];
    const [x = 0, y = 0, z = 0] = core.split('.').map(Number);
    return { nums: [x, y, z], pre };
  };
  const pa = parse(a);
  const pb = parse(b);
  for (let i = 0; i < 3; i++) if (pa.nums[i] !== pb.nums[i]) return pa.nums[i]! - pb.nums[i]!;
  if (pa.pre === pb.pre) return 0;
  if (pa.pre === undefined) return 1;
  if (pb.pre === undefined) return -1;
  return pa.pre < pb.pre ? -1 : 1;
}

/** A semver constraint as Helm reads it: comparators joined by spaces (and), alternatives by ||. */
export function versionSatisfies(constraint: string, version: string): boolean {
  const v = version.replace(/^v/, '').replace(/\+.*$/, '');
  return constraint.split('||').some((alt) => alt.trim().split(/\s+/).filter(Boolean).every((c) => {
    const m = /^(>=|<=|>|<|=|!=)?\s*v?(\d+(?:\.\d+){0,2}(?:-[\w.]+)?)$/.exec(c);
    if (!m) throw new Error(`cannot read version constraint "${c}"`);
    // a constraint with a prerelease ("-0") admits prereleases of the version, as Helm's semver does
    const cmp = compareVersions(m[2]!.includes('-') ? v : v.replace(/-.*$/, ''), m[2]!);
    switch (m[1] ?? '=') {
      case '>=': return cmp >= 0;
      case '<=': return cmp <= 0;
      case '>': return cmp > 0;
      case '<': return cmp < 0;
      case '!=': return cmp !== 0;
      default: return cmp === 0;
    }
  }));
}
