import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest } from '../../../src/operator/source/manifest-parse.js';

const svc = (name: string): string => `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n`;

describe('manifest file parsing', () => {
  it('splits documents at markers (with comments after them, CRLF too) and reports where each object starts', () => {
    const text = `# leading comment\n${svc('a')}--- # second\n\n${svc('b')}...\n---\n`.replace(/\n/g, '\r\n');
    const { objects, problems } = parseManifest('f.yaml', text);
    assert.deepEqual(problems, []);
    assert.deepEqual(objects.map((o) => [o.object.metadata.name, o.where]), [['a', 'f.yaml:2'], ['b', 'f.yaml:8']]);
  });

  it('reports the line of a syntax error and of a duplicate key, and only the reason', () => {
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\nstringData:\n  tls.key: "-----BEGIN ' + 'PRIVATE KEY----- oops\n   bad: [\n';
    const text = `${svc('ok')}---\n${secret}---\n${svc('dup')}  name: again\n`;
    const { objects, problems } = parseManifest('f.yaml', text);
    assert.deepEqual(objects.map((o) => o.object.metadata.name), ['ok']);
    assert.equal(problems.length, 2);
    assert.match(problems[0].where, /^f\.yaml:1[123]$/);
    assert.doesNotMatch(problems[0].message, /PRIVATE KEY/, 'no source text in problems');
    assert.equal(problems[1].where, 'f.yaml:18', 'the line of the second key');
    assert.match(problems[1].message, /duplicated mapping key/);
  });

  it('expands kind: List, takes anchors, and refuses an alias bomb', () => {
    const list = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: l1}\n- apiVersion: v1\n  kind: Service\n  metadata: {name: l2}\n';
    const anchors = 'apiVersion: v1\nkind: Service\nmetadata:\n  name: anch\n  labels: &l {app: x}\n  annotations: *l\n';
    const bomb = 'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n';
    const { objects, problems } = parseManifest('f.yaml', `${list}---\n${anchors}---\n${bomb}`);
    assert.deepEqual(objects.map((o) => o.object.metadata.name), ['l1', 'l2', 'anch']);
    assert.deepEqual(objects[2].object.metadata.annotations, { app: 'x' });
    assert.equal(problems.length, 1);
    assert.equal(problems[0].where, 'f.yaml:17');
    assert.match(problems[0].message, /alias/i);
  });

  it('names what is missing in an object', () => {
    const { problems } = parseManifest('f.yaml', '- a\n---\napiVersion: v1\nkind: Service\nmetadata: {labels: {a: b}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: x, annotations: {n: 1}}\n');
    assert.deepEqual(problems.map((p) => [p.where, p.message]), [
      ['f.yaml:1', 'a document must be a mapping (a Kubernetes object)'],
      ['f.yaml:3', 'Service: metadata.name is missing'],
      ['f.yaml:7', 'Service x: metadata.annotations must map strings to strings (quote numbers and booleans)'],
    ]);
  });
});
