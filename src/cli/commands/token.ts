// `portico token create --controller URL --se-group NAME`: a join token for service engines of
// that SE group (docs/engine-protocol.md). Credentials: PORTICO_USERNAME / PORTICO_PASSWORD.
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { Agent, fetch } from 'undici';

interface TokenOptions { controller: string; controllerCa?: string; seGroup: string; ttl?: string; maxUses?: string; tenant: string }

async function createToken(o: TokenOptions): Promise<string> {
  const base = o.controller.replace(/\/+$/, '');
  const user = process.env.PORTICO_USERNAME ?? 'admin';
  const password = process.env.PORTICO_PASSWORD;
  if (!password) throw new Error('PORTICO_PASSWORD is not set (the controller password of PORTICO_USERNAME, default admin)');
  // A controller with a self-signed certificate (DATA/tls/controller.crt) is pinned, like engines do.
  let dispatcher: Agent | undefined;
  if (o.controllerCa) {
    try { dispatcher = new Agent({ connect: { ca: readFileSync(o.controllerCa, 'utf8') } }); } catch (err) { throw new Error(`--controller-ca: ${(err as Error).message}`); }
  }
  const headers = { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`, 'x-avi-tenant': o.tenant, 'content-type': 'application/json' };
  const find = await fetch(`${base}/api/serviceenginegroup?name=${encodeURIComponent(o.seGroup)}`, { headers, dispatcher });
  if (!find.ok) throw new Error(`GET serviceenginegroup: ${find.status} ${await find.text()}`);
  const list = (await find.json()) as { results?: { uuid: string }[] };
  const group = list.results?.[0];
  if (!group) throw new Error(`--se-group: no SE group named "${o.seGroup}"`);
  const body: Record<string, number> = {};
  if (o.ttl !== undefined) body.ttl_seconds = Number(o.ttl);
  if (o.maxUses !== undefined) body.max_uses = Number(o.maxUses);
  const res = await fetch(`${base}/api/serviceenginegroup/${encodeURIComponent(group.uuid)}/jointoken`, { method: 'POST', headers, body: JSON.stringify(body), dispatcher });
  if (res.status !== 201) throw new Error(`create token: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export function registerToken(program: Command): void {
  const token = program.command('token').description('service engine join tokens');
  token
    .command('create')
    .description('create a join token for an SE group and print it')
    .requiredOption('--controller <url>', 'controller URL')
    .option('--controller-ca <file>', 'PEM file to verify the controller\'s TLS certificate with (its self-signed DATA/tls/controller.crt)')
    .requiredOption('--se-group <name>', 'SE group name (e.g. Default-Group)')
    .option('--ttl <seconds>', 'token lifetime in seconds (default: 24 h)')
    .option('--max-uses <n>', 'how many engines may join with it (default: unlimited)')
    .option('--tenant <name>', 'tenant of the SE group', 'admin')
    .action(async (o: TokenOptions) => {
      try {
        console.log(await createToken(o));
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        if (cause?.code && /CERT|SELF_SIGNED/.test(cause.code)) err = new Error(`${(err as Error).message}: ${cause.message} (a self-signed controller: pass --controller-ca with its DATA/tls/controller.crt)`);
        console.error(`portico token create: ${(err as Error).message}`);
        process.exitCode = 1;
      }
    });
}
