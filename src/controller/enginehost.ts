// The EngineHost (src/controller/engines/host.ts) over the object service and store: what the
// SE protocol module uses to read objects and create service engines.
import type { EngineHost, StoredObject } from './engines/host.js';
import type { Store } from './store/types.js';
import type { ObjectService } from './objects.js';
import { ADMIN } from './api/refs.js';

export class StoreEngineHost implements EngineHost {
  constructor(private readonly store: Store, private readonly objects: ObjectService) {}

  async list(type: string): Promise<StoredObject[]> {
    return (await this.store.all(type)).map((r) => r.body);
  }
  async get(type: string, uuid: string): Promise<StoredObject | undefined> {
    const r = await this.store.get(uuid);
    return r && r.type === type ? r.body : undefined;
  }
  private caller(body: Record<string, unknown>) {
    const t = typeof body.tenant_ref === 'string' ? body.tenant_ref : ADMIN;
    return { tenant: t.includes('/') ? ADMIN : t, internal: true };
  }
  async create(type: string, body: Record<string, unknown>): Promise<StoredObject> {
    return (await this.objects.create(type, body, this.caller(body))).body;
  }
  async update(type: string, uuid: string, body: Record<string, unknown>): Promise<StoredObject> {
    return (await this.objects.replace(type, uuid, body, this.caller(body))).body;
  }
  async remove(type: string, uuid: string): Promise<void> {
    await this.objects.remove(type, uuid, { tenant: ADMIN, internal: true });
  }
  revision(): Promise<number> { return this.store.revision(); }
  onChange(listener: (type: string, uuid: string) => void): () => void { return this.store.onChange(listener); }
}
