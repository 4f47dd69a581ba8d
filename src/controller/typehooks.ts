// The per-type hooks the generic write path calls (see hooks.ts).
import type { TypeHooks, WriteContext } from './hooks.js';
import type { StoreTx } from './store/types.js';
import { removeVsVip, writeNetwork, writeVsVip } from './ipam/ipam.js';
import { parseCertificate, checkKey } from './certs/parse.js';
import { hashPassword } from './api/passwords.js';
import { badRequest } from './errors.js';
import { validateSeGroup } from './placement/validate.js';

/** Adds or removes a child's UUID on its VH parent (RO `vh_child_vs_uuid`); the parent's `_last_modified` stays. */
async function setChild(tx: StoreTx, parentUuid: string, child: string, present: boolean): Promise<void> {
  const parent = await tx.get(parentUuid);
  if (!parent) return;
  const list = ((parent.body.vh_child_vs_uuid as string[] | undefined) ?? []).filter((u) => u !== child);
  if (present) list.push(child);
  if (list.length) parent.body.vh_child_vs_uuid = list; else delete parent.body.vh_child_vs_uuid;
  await tx.put(parent);
}

const virtualservice: TypeHooks = {
  defaults(b) {
    b.application_profile_ref ??= '/api/applicationprofile?name=System-HTTP';
    b.network_profile_ref ??= '/api/networkprofile?name=System-TCP-Proxy';
    b.se_group_ref ??= '/api/serviceenginegroup?name=Default-Group';
    b.vrf_context_ref ??= '/api/vrfcontext?name=global';
  },
  async write(c: WriteContext) {
    const b = c.body;
    (b.services ?? []).forEach((s: any, i: number) => {
      if (s.port_range_end !== undefined && s.port_range_end < s.port) throw badRequest(`services[${i}].port_range_end: ${s.port_range_end} is below port ${s.port}`);
    });
    if (b.type === 'VS_TYPE_VH_CHILD') {
      if (!b.vh_parent_vs_ref) throw badRequest('vh_parent_vs_ref: required for a VS_TYPE_VH_CHILD virtual service');
      if (b.vh_parent_vs_ref === c.uuid) throw badRequest('vh_parent_vs_ref: a virtual service cannot be its own parent');
      const parent = await c.tx.get(b.vh_parent_vs_ref);
      if (parent?.body.type !== 'VS_TYPE_VH_PARENT') throw badRequest(`vh_parent_vs_ref: ${parent?.name} is not a VS_TYPE_VH_PARENT virtual service`);
    } else if (b.vh_parent_vs_ref) {
      throw badRequest('vh_parent_vs_ref: only a VS_TYPE_VH_CHILD virtual service has a parent');
    }
    if (b.type !== 'VS_TYPE_VH_PARENT') delete b.vh_child_vs_uuid;
    const was = c.old?.body.vh_parent_vs_ref as string | undefined;
    if (was && was !== b.vh_parent_vs_ref) await setChild(c.tx, was, c.uuid, false);
    if (b.vh_parent_vs_ref && was !== b.vh_parent_vs_ref) c.afterPut.push(() => setChild(c.tx, b.vh_parent_vs_ref, c.uuid, true));
  },
  async remove(tx, rec) {
    if (rec.body.vh_parent_vs_ref) await setChild(tx, rec.body.vh_parent_vs_ref as string, rec.uuid, false);
  },
};

const sslkeyandcertificate: TypeHooks = {
  async write(c) {
    const cert = c.body.certificate as Record<string, any>;
    if (typeof cert.certificate !== 'string' || !cert.certificate.trim()) {
      throw badRequest('certificate.certificate: Import error: a PEM certificate is required');
    }
    const parsed = parseCertificate(cert.certificate, 'certificate.certificate');
    Object.assign(cert, parsed.fields);
    if (typeof c.body.key === 'string') checkKey(parsed.x509, c.body.key, c.body.key_passphrase, 'key');
    else if ((c.body.type ?? 'SSL_CERTIFICATE_TYPE_VIRTUALSERVICE') !== 'SSL_CERTIFICATE_TYPE_CA') throw badRequest('key: a private key is required for this certificate type');
  },
};

const user: TypeHooks = {
  async prepare(b) {
    if (typeof b.password === 'string') {
      b.password_hash = await hashPassword(b.password);
      delete b.password;
    }
  },
  async write(c) {
    c.body.username ??= c.body.name;
    delete c.body.password;
  },
};

const network: TypeHooks = { write: writeNetwork };
const vsvip: TypeHooks = { write: writeVsVip, remove: removeVsVip };

const serviceenginegroup: TypeHooks = { async write(c) { validateSeGroup(c.body); } };

export const typeHooks: Record<string, TypeHooks> = { virtualservice, sslkeyandcertificate, user, network, vsvip, serviceenginegroup };
