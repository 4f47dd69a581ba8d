// `portico engine`: one service engine (see shared/design/INTERFACES.md and docs/engine.md).
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { DEFAULT_VIP_LEASE_S, parseVipLease, type VipLease } from '../../engine/vip/lease.js';

interface EngineCliOptions {
  controller?: string;
  controllerCa?: string;
  joinToken?: string;
  name?: string;
  data: string;
  vipMode: string;
  interface?: string;
  vipLease: string;
  metricsListen: string;
  logLevel: string;
}

export function registerEngine(program: Command): void {
  program
    .command('engine')
    .description('run one service engine: joins the controller, serves the virtual services placed on it')
    .option('--controller <url>', 'controller URL (without it: serve the snapshot in --data, headless)')
    .option('--controller-ca <file>', 'PEM file to verify the controller\'s TLS certificate with (a self-signed controller)')
    .option('--join-token <token>', 'join token of the SE group (portico token create); also PORTICO_JOIN_TOKEN')
    .option('--name <name>', 'service engine name (default: the host name)')
    .option('--data <dir>', 'data directory (identity.json, snapshot.json)', '.portico-engine')
    .option('--vip-mode <mode>', 'loopback (bind VIPs directly) or l2 (add to --interface, announce by ARP)', 'loopback')
    .option('--interface <if>', 'interface for --vip-mode l2')
    .option('--vip-lease <seconds>', 'l2 mode: a VIP outlives the engine\'s last renewal (every second) by this many seconds, so a killed engine\'s VIP vanishes; "forever" keeps it until removed', String(DEFAULT_VIP_LEASE_S))
    .option('--metrics-listen <host:port>', 'admin server for GET /metrics', '127.0.0.1:0')
    .option('--log-level <level>', 'pino log level', 'info')
    .action(async (o: EngineCliOptions) => {
      const log = pino({ level: o.logLevel, base: { component: 'engine' }, redact: ['se_secret', 'token', 'key'] });
      if (o.vipMode !== 'loopback' && o.vipMode !== 'l2') {
        console.error(`--vip-mode: expected loopback or l2, got "${o.vipMode}"`);
        process.exitCode = 2;
        return;
      }
      if (o.vipMode === 'l2' && !o.interface) {
        console.error('--interface: required with --vip-mode l2');
        process.exitCode = 2;
        return;
      }
      let vipLease: VipLease;
      try {
        vipLease = parseVipLease(o.vipLease);
      } catch (err) {
        console.error(`--vip-lease: ${(err as Error).message}`);
        process.exitCode = 2;
        return;
      }
      if (o.controller && !/^https?:\/\//.test(o.controller)) {
        console.error(`--controller: expected an http(s) URL, got "${o.controller}"`);
        process.exitCode = 2;
        return;
      }
      let controllerCa: string | undefined;
      if (o.controllerCa) {
        try {
          controllerCa = readFileSync(o.controllerCa, 'utf8');
        } catch (err) {
          console.error(`--controller-ca: ${(err as Error).message}`);
          process.exitCode = 2;
          return;
        }
      }
      // Signals are handled from the start, so a stop during startup is clean too.
      let stopping = false;
      let starting: Promise<{ stop(): Promise<void> } | undefined> = Promise.resolve(undefined);
      const stop = () => {
        if (stopping) return;
        stopping = true;
        log.info({}, 'stopping');
        starting.then((e) => e?.stop()).then(() => process.exit(0), () => process.exit(1));
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      // A bug hit by one connection must not take every other connection down with the process.
      process.on('uncaughtException', (err) => log.error({ err: { message: err.message, stack: err.stack } }, 'uncaught exception (process kept running)'));
      // Loaded here so other subcommands do not load the data plane.
      const { startEngine } = await import('../../engine/agent/agent.js');
      starting = startEngine({
        controller: o.controller,
        controllerCa,
        joinToken: o.joinToken ?? process.env.PORTICO_JOIN_TOKEN,
        name: o.name,
        dataDir: resolve(o.data),
        vipMode: o.vipMode as 'loopback' | 'l2',
        interface: o.interface,
        vipLease,
        metricsListen: o.metricsListen,
        log,
      }).catch((err: Error) => {
        console.error(`portico engine: ${err.message}`);
        process.exit(1);
      });
      await starting;
    });
}
