// `portico store migrate --from sqlite:DIR --to etcd:URL[,URL…]`: moves an installation's
// store from the embedded SQLite database to etcd (replicated controllers).
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { connectEtcd } from '../../controller/store/etcd-client.js';
import { readSqliteStore, migrateToEtcd } from '../../controller/store/etcd-migrate.js';
import { etcdConnection, etcdFlags, type EtcdFlags } from '../../controller/cluster/flags.js';

interface Opts extends EtcdFlags { from: string; to: string; replace?: boolean }

export function registerStore(program: Command): void {
  const store = program.command('store').description('the controller\'s store');
  const migrate = store.command('migrate')
    .description('copy a SQLite store into etcd (a running controller keeps serving; writes after the copy starts are not copied)')
    .requiredOption('--from <sqlite:DIR>', 'the source: sqlite:DIR (the controller\'s --data directory)')
    .requiredOption('--to <etcd:URLS>', 'the target: etcd:URL[,URL...]')
    .option('--replace', 'overwrite a Portico store already in etcd');
  etcdFlags(migrate);
  migrate.action(async (o: Opts) => {
    const fail = (msg: string): never => { console.error(`portico store migrate: ${msg}`); process.exit(2); };
    if (!o.from.startsWith('sqlite:') || o.from.length === 'sqlite:'.length) fail(`--from: ${o.from}: expected sqlite:DIR`);
    if (!o.to.startsWith('etcd:')) fail(`--to: ${o.to}: expected etcd:URL[,URL...]`);
    let conn;
    try { conn = etcdConnection(o.to, o, '--to'); } catch (e) { fail((e as Error).message); }
    let src;
    try { src = readSqliteStore(resolve(o.from.slice('sqlite:'.length))); } catch (e) { fail((e as Error).message); }
    const client = connectEtcd(conn!);
    try {
      const r = await migrateToEtcd(client, src!, { replace: o.replace });
      console.log(`Migrated ${r.objects} objects (${r.refs} refs, ${r.claims} claims) to etcd at revision ${r.revision}.`);
      console.log(`Start the controllers with: portico controller --store etcd --etcd-endpoints ${conn!.endpoints.join(',')}`);
    } catch (e) {
      console.error(`portico store migrate: ${(e as Error).message}`);
      process.exitCode = 1;
    } finally {
      client.close();
    }
  });
}
