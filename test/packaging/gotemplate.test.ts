// The Go-template renderer against what Go's text/template + sprig + Helm produce for the same
// input (expected outputs are Go's, including its quirks: 1e+06, int vs float, nil errors).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { TemplateSet } from '../../src/packaging/gotemplate/exec.js';
import { helmFuncs, sprintf, toYaml } from '../../src/packaging/gotemplate/funcs.js';
import { TemplateError } from '../../src/packaging/gotemplate/parse.js';

function render(src: string, data: unknown = {}, helpers = ''): string {
  const set = new TemplateSet(helmFuncs);
  if (helpers) set.add('_helpers.tpl', helpers);
  set.add('t', src);
  return set.execute('t', data);
}

function fails(src: string, data: unknown, pattern: RegExp): void {
  assert.throws(() => render(src, data), (e: unknown) => e instanceof TemplateError && pattern.test((e as Error).message), src);
}

describe('Go template language', () => {
  const cases: Array<[string, unknown, string]> = [
    ['plain text', {}, 'plain text'],
    ['{{ .a }}-{{ .b.c }}', { a: 'x', b: { c: 2 } }, 'x-2'],
    ['{{ .missing }}|', {}, '|'],
    ['a  {{- " b " -}}  c', {}, 'a b c'],
    ['a\n  {{- /* note */ -}}\n  b', {}, 'ab'],
    ['{{ if .t }}yes{{ else }}no{{ end }}', { t: [] }, 'no'],
    ['{{ if .t }}yes{{ else if .u }}u{{ else }}no{{ end }}', { t: 0, u: 'x' }, 'u'],
    ['{{ with .m }}{{ .k }}{{ else }}none{{ end }}', { m: { k: 'v' } }, 'v'],
    ['{{ with .m }}{{ .k }}{{ else }}none{{ end }}', { m: {} }, 'none'],
    ['{{ range .l }}[{{ . }}]{{ else }}empty{{ end }}', { l: ['a', 'b'] }, '[a][b]'],
    ['{{ range .l }}[{{ . }}]{{ else }}empty{{ end }}', { l: null }, 'empty'],
    ['{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}', { m: { b: 2, a: 1 } }, 'a=1;b=2;'],
    ['{{ range $i, $v := .l }}{{ $i }}{{ $v }}{{ end }}', { l: ['x', 'y'] }, '0x1y'],
    ['{{ range .l }}{{ if eq . 2.0 }}{{ break }}{{ end }}{{ . }}{{ end }}', { l: [1, 2, 3] }, '1'],
    ['{{ range .l }}{{ if eq . 2.0 }}{{ continue }}{{ end }}{{ . }}{{ end }}', { l: [1, 2, 3] }, '13'],
    ['{{ range .l }}{{ $.top }}{{ end }}', { l: [1, 2], top: 'T' }, 'TT'],
    ['{{ $x := "a" }}{{ range .l }}{{ $x = . }}{{ end }}{{ $x }}', { l: ['b', 'c'] }, 'c'],
    ['{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ end }}{{ $x }}', {}, '1'],
    ['{{ (index .m "a-b").c }}', { m: { 'a-b': { c: 'ok' } } }, 'ok'],
    ['{{ .n }} {{ .f }} {{ .big }} {{ .small }} {{ 3 }}', { n: 1, f: 1.5, big: 1000000, small: 0.00001 }, '1 1.5 1e+06 1e-05 3'],
    ['{{ .l }} {{ .m }} {{ true }} {{ nil }}', { l: [1, 'a'], m: { b: 1, a: [2] } }, '[1 a] map[a:[2] b:1] true '],
    ['{{ "a\\tb" }} {{ `raw\\n` }} {{ \'x\' }}', {}, 'a\tb raw\\n 120'],
    ['{{ and 1 0 2 }} {{ or 0 "" "z" }} {{ not .x }}', {}, '0 z true'],
    ['{{ and false .missing.deep }}', {}, 'false'],
    ['{{ eq .a "x" "y" }} {{ ne 1 2 }} {{ lt 1 2 }} {{ ge 2.5 2.5 }}', { a: 'y' }, 'true true true true'],
    ['{{ len .l }} {{ len "héllo" }} {{ index .l 1 }}', { l: [1, 2, 3] }, '3 6 2'],
    ['{{ .C.Has "v1" }} {{ .C.Has "v2" }}', { C: { Has: (v: string) => v === 'v1' } }, 'true false'],
    ['{{ "x" | printf "%s-%s" "a" }}', {}, 'a-x'],
    ['{{ template "h" .v }}', { v: 'V' }, '<V>'],
    ['{{ block "blk" . }}default {{ .v }}{{ end }}', { v: 1 }, 'default 1'],
  ];
  for (const [src, data, want] of cases) {
    it(JSON.stringify(src), () => assert.equal(render(src, data, '{{ define "h" }}<{{ . }}>{{ end }}'), want));
  }

  it('reports Go\'s errors with the template position', () => {
    fails('line1\n{{ .a.b }}', {}, /^t:2: nil pointer evaluating interface \{\}\.b$/);
    fails('{{ eq .n 1 }}', { n: 1 }, /error calling eq: incompatible types for comparison/);
    fails('{{ lt true false }}', {}, /invalid type for comparison/);
    fails('{{ nosuch 1 }}', {}, /function "nosuch" not defined/);
    fails('{{ if .a }}x', { a: 1 }, /unexpected EOF/);
    fails('{{ .a', {}, /unclosed action/);
    fails('{{ $undefined }}', {}, /undefined variable: \$undefined/);
    fails('{{ .s 1 }}', { s: 'str' }, /can't give argument to non-function/);
    fails('{{ range .s }}{{ end }}', { s: 'str' }, /range can't iterate over str/);
    fails('{{ include "nope" . }}', {}, /no template "nope"/);
  });

  it('stops runaway include recursion', () => {
    assert.throws(() => render('{{ include "loop" . }}', {}, '{{ define "loop" }}{{ include "loop" . }}{{ end }}'), /nested reference/);
  });
});

describe('Helm and sprig functions', () => {
  const cases: Array<[string, unknown, string]> = [
    ['{{ .x | default "d" }} {{ .y | default "d" }} {{ .z | default 5 }}', { y: 'set', z: 0 }, 'd set 5'],
    ['{{ quote .s }} {{ .s | squote }} {{ quote .n }} {{ quote .nil }}|', { s: 'a"b', n: 1 }, '"a\\"b" \'a"b\' "1" |'],
    ['{{ toYaml .v }}', { v: { b: [1, 'x'], a: { c: true }, e: {}, s: 'true' } }, 'a:\n  c: true\nb:\n- 1\n- x\ne: {}\ns: "true"'],
    ['x:{{ toYaml .v | nindent 2 }}', { v: { k: 'v', l: ['a'] } }, 'x:\n  k: v\n  l:\n  - a'],
    ['{{ .s | indent 3 }}', { s: 'a\nb' }, '   a\n   b'],
    ['{{ toJson .v }}', { v: { a: [1, '<b>'], n: null } }, '{"a":[1,"\\u003cb\\u003e"],"n":null}'],
    ['{{ (fromYaml "a: 1\\nb: [x]").b }}', {}, '[x]'],
    ['{{ b64enc "admin" }} {{ b64dec "YWRtaW4=" }}', {}, 'YWRtaW4= admin'],
    ['{{ "  x  " | trim }}|{{ trimSuffix "-" "a-" }}|{{ trimPrefix "v" "v1.2" }}|{{ trunc 3 "abcdef" }}|{{ trunc -2 "abcdef" }}', {}, 'x|a|1.2|abc|ef'],
    ['{{ upper "a" }}{{ lower "B" }} {{ title "hello world" }} {{ replace "a" "b" "banana" }}', {}, 'Ab Hello World bbnbnb'],
    ['{{ contains "an" "banana" }} {{ hasPrefix "ba" "banana" }} {{ hasSuffix "x" "banana" }}', {}, 'true true false'],
    ['{{ add 1 2 }} {{ sub 5 2 }} {{ mul 2 3 }} {{ div 7 2 }} {{ mod 7 2 }} {{ max 1 5 3 }} {{ min 4 2 }} {{ add1 .f }}', { f: 1.9 }, '3 3 6 3 1 5 2 2'],
    ['{{ int "42" }} {{ int 3.9 }} {{ float64 "1.5" }} {{ int .n | eq 8 }}', { n: 8 }, '42 3 1.5 true'],
    ['{{ list 1 "a" | toJson }} {{ first .l }} {{ last .l }} {{ rest .l }} {{ has 2.0 .l }} {{ without .l 1.0 }}', { l: [1, 2, 3] }, '[1,"a"] 1 3 [2 3] true [2 3]'],
    ['{{ join "," .l }} {{ splitList "," "a,b" }} {{ uniq .d }} {{ compact .c }} {{ sortAlpha .s }}', { l: ['a', 'b'], d: ['x', 'x', 'y'], c: ['', 'a'], s: ['b', 'a'] }, 'a,b [a b] [x y] [a] [a b]'],
    ['{{ $d := dict "a" 1 "b" 2 }}{{ $_ := set $d "c" 3 }}{{ keys $d | sortAlpha }} {{ hasKey $d "a" }} {{ get $d "b" }} {{ omit $d "a" "c" }} {{ pick $d "a" }}', {}, '[a b c] true 2 map[b:2] map[a:1]'],
    ['{{ dig "a" "b" "none" .m }} {{ dig "a" "x" "none" .m }}', { m: { a: { b: 'found' } } }, 'found none'],
    ['{{ merge (dict "a" 1) (dict "a" 2 "b" 2) | toJson }} {{ mergeOverwrite (dict "a" 1 "n" (dict "x" 1)) (dict "a" 2 "n" (dict "y" 2)) | toJson }}', {}, '{"a":1,"b":2} {"a":2,"n":{"x":1,"y":2}}'],
    ['{{ ternary "y" "n" true }} {{ coalesce "" .x "c" }} {{ empty .e }} {{ empty "a" }}', { e: {} }, 'y c true false'],
    ['{{ kindOf .m }} {{ kindOf .l }} {{ kindOf 1 }} {{ kindOf 1.5 }} {{ kindIs "string" "a" }} {{ typeOf .m }}', { m: {}, l: [] }, 'map slice int float64 true map[string]interface {}'],
    ['{{ sha256sum "a" | trunc 8 }} {{ regexMatch "^[a-z]+$" "abc" }} {{ regexReplaceAll "a(x*)b" "-ab-axxb-" "${1}W" }}', {}, 'ca978112 true -W-xxW-'],
    ['{{ toString 5 }} {{ toString .nil }} {{ cat "a" .nil "b" }} {{ repeat 3 "ab" }} {{ nospace "a b c" }}', {}, '5 <nil> a b ababab abc'],
    ['{{ include "h" . | upper }} {{ tpl "{{ .v }}!" . }}', { v: 'v' }, '<V> v!'],
    ['{{ lookup "v1" "Secret" "ns" "name" | toJson }}', {}, '{}'],
    ['{{ slice .l 1 }} {{ slice .l 0 1 }} {{ slice "abc" 1 2 }} {{ html "<a&b>" }} {{ js "it\'s" }}', { l: [1, 2, 3] }, "[2 3] [1] b &lt;a&amp;b&gt; it\\'s"],
    ['{{ semverCompare ">=1.22.0-0" .v }} {{ semverCompare "<1.20" .v }}', { v: 'v1.30.1' }, 'true false'],
  ];
  for (const [src, data, want] of cases) {
    it(JSON.stringify(src), () => assert.equal(render(src, data, '{{ define "h" }}<{{ .v }}>{{ end }}'), want));
  }

  it('required and fail stop rendering with the message and position', () => {
    assert.throws(() => render('\n{{ required "controllerHost is required" .h }}', {}), /^Error: execution error at \(t:2\): controllerHost is required$|execution error at \(t:2\): controllerHost is required/);
    assert.throws(() => render('{{ fail "no" }}', {}), /execution error at \(t:1\): no/);
    assert.equal(render('{{ required "x" .h }}', { h: 'ok' }), 'ok');
  });

  it('printf follows Go verbs', () => {
    assert.equal(sprintf('%s:%d %q %v %t %05d %-3s| %x %%', ['a', 7n, 'q', [1], true, 42n, 'x', 255n]), 'a:7 "q" [1] true 00042 x  | ff %');
    assert.equal(sprintf('%d', ['s']), '%!d(string=s)');
    assert.equal(sprintf('%s', []), '%!s(MISSING)');
  });

  it('toYaml output parses back to the same data (property)', () => {
    const key = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9_.-]{0,7}$/);
    const leaf = fc.oneof(fc.string({ maxLength: 12 }), fc.boolean(), fc.integer(), fc.constant(null));
    const data = fc.dictionary(key, fc.oneof(leaf, fc.array(leaf, { maxLength: 3 }), fc.dictionary(key, leaf, { maxKeys: 3 })), { maxKeys: 5 });
    fc.assert(fc.property(data, (generated) => {
      const d = JSON.parse(JSON.stringify(generated)) as Record<string, unknown>; // plain prototypes
      assert.deepEqual(parseYaml(toYaml(d)) ?? {}, d);
      // what charts do: embed it indented under a key
      assert.deepEqual((parseYaml(render('root:{{ toYaml . | nindent 2 }}', d)) as { root: unknown }).root ?? {}, d);
    }), { numRuns: 150 });
  });
});
