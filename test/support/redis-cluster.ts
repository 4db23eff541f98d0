/**
 * A real Redis Cluster for tests: six private `redis-server` processes on free loopback ports
 * (three masters, three replicas), joined with `redis-cli --cluster create`, deleted after. Each
 * node has a directory of its own: a replica receives its first sync into a file of its directory
 * (renamed to `dump.rdb`, then loaded), so nodes sharing one directory could load each other's data
 * when their first syncs end together (a replica then held another master's keys, and a failover
 * made it the master of slots whose keys it did not have).
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One node of the test cluster. */
export interface ClusterNodeProcess {
  port: number;
  proc: ChildProcess;
}

/** A running test cluster. */
export interface TestCluster {
  nodes: ClusterNodeProcess[];
  /** Start nodes for `redisEngine({ cluster })` / `redis: { cluster }`. */
  startNodes: { host: string; port: number }[];
  /** Port of the master serving `key`'s slot. */
  masterOf(key: string): Promise<number>;
  /** Ports of the replicas of the master on `port` whose link to it is up (waits up to 20 s for one). */
  replicasOf(port: number): Promise<number[]>;
  /** Stops every node and deletes their files. */
  stop(): Promise<void>;
}

function canListen(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(port, '127.0.0.1', () => {
      const got = (srv.address() as { port: number }).port;
      srv.close(() => resolve(got));
    });
  });
}

/**
 * A free port below 55535 whose cluster bus port (port + 10000) is free too: Redis refuses a
 * higher port in cluster mode, and a bus port taken by another process stops the node joining.
 */
async function freePort(taken: number[]): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.includes(port) || taken.includes(port + 10_000) || taken.includes(port - 10_000)) continue;
    try {
      await canListen(port);
      await canListen(port + 10_000);
      return port;
    } catch {
      // taken: try another
    }
  }
  throw new Error('no free port pair (port and port + 10000) found for a cluster node');
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/** `CLUSTER NODES` of the node on `port`, parsed. */
export async function clusterNodes(port: number): Promise<{ id: string; port: number; master: boolean; masterId: string; slots: string[]; fail: boolean }[]> {
  const out = await run('redis-cli', ['-p', String(port), 'cluster', 'nodes']);
  return out
    .trim()
    .split('\n')
    .map((line) => {
      const f = line.split(' ');
      return {
        id: f[0],
        port: Number(f[1].split(':')[1].split('@')[0]),
        master: f[2].includes('master'),
        masterId: f[3],
        fail: f[2].includes('fail'),
        slots: f.slice(8),
      };
    });
}

/** Polls until every node agrees the cluster is `ok`. */
export async function waitClusterOk(ports: number[], timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const states = await Promise.all(ports.map((p) => run('redis-cli', ['-p', String(p), 'cluster', 'info']).catch(() => '')));
    if (states.every((s) => s.includes('cluster_state:ok'))) return;
    if (Date.now() > until) throw new Error(`The test Redis Cluster on ports ${ports.join(',')} did not reach cluster_state:ok`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls until three nodes are replicas whose link to their master is up with no sync under way. */
export async function waitReplicasSynced(ports: number[], timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const infos = await Promise.all(ports.map((p) => run('redis-cli', ['-p', String(p), 'info', 'replication']).catch(() => '')));
    const synced = infos.filter((i) => i.includes('role:slave') && i.includes('master_link_status:up') && i.includes('master_sync_in_progress:0'));
    if (synced.length === 3) return;
    if (Date.now() > until) throw new Error(`the replicas of the test Redis Cluster on ports ${ports.join(',')} did not finish their first sync`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts a 6-node cluster (3 masters with one replica each). Fails with a clear message when
 * `redis-server` / `redis-cli` are missing.
 */
export async function startTestCluster(): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'qtasks-cluster-'));
  const ports: number[] = [];
  for (let i = 0; i < 6; i++) ports.push(await freePort(ports));
  const nodes: ClusterNodeProcess[] = ports.map((port) => {
    const own = join(dir, String(port));
    mkdirSync(own);
    // a replica's first sync starts at once (no 5 s wait for other replicas to join it)
    const proc = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-config-file', join(own, 'nodes.conf'), '--dir', own,
      '--save', '', '--appendonly', 'no', '--cluster-node-timeout', '2000', '--repl-diskless-sync-delay', '0',
    ], { stdio: 'ignore' });
    proc.on('error', () => undefined);
    return { port, proc };
  });
  const stop = async (): Promise<void> => {
    for (const n of nodes) n.proc.kill('SIGKILL');
    await Promise.all(nodes.map((n) => (n.proc.exitCode !== null || n.proc.signalCode !== null ? undefined : new Promise((r) => n.proc.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const until = Date.now() + 10_000;
      for (;;) {
        const pong = await run('redis-cli', ['-p', String(port), 'ping']).catch(() => '');
        if (pong.includes('PONG')) break;
        if (Date.now() > until) throw new Error(`redis-server did not start on port ${port} (is redis-server installed?)`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes']);
    await waitClusterOk(ports);
    // every node knows the three replicas as replicas (a node learns a role by gossip, later)
    const until = Date.now() + 20_000;
    for (;;) {
      const views = await Promise.all(ports.map((p) => clusterNodes(p).catch(() => [])));
      if (views.every((v) => v.filter((n) => !n.master).length === 3)) break;
      if (Date.now() > until) throw new Error('the replicas were not known as replicas by every node within 20 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    // every replica has finished its first sync (a planned failover is made to a replica in sync)
    await waitReplicasSynced(ports);
  } catch (err) {
    await stop();
    throw new Error(`The Redis Cluster tests start a private cluster with redis-server and redis-cli: ${(err as Error).message}`);
  }
  return {
    nodes,
    startNodes: ports.slice(0, 3).map((port) => ({ host: '127.0.0.1', port })),
    async masterOf(key: string) {
      // asked of a live node with redis-cli (a client whose start node died would wait forever)
      for (const n of nodes) {
        if (n.proc.exitCode !== null || n.proc.signalCode !== null) continue;
        try {
          const slot = Number((await run('redis-cli', ['-p', String(n.port), 'cluster', 'keyslot', key])).trim());
          for (const m of await clusterNodes(n.port)) {
            if (!m.master || m.fail) continue;
            for (const range of m.slots) {
              const [a, b] = range.split('-').map(Number);
              if (slot >= a && slot <= (b ?? a)) return m.port;
            }
          }
        } catch {
          // this node does not answer: ask the next one
        }
      }
      throw new Error(`No live node of the test cluster knows the master of ${key}`);
    },
    async replicasOf(port: number) {
      // after a failover the demoted master takes a moment to show up as a replica and resync:
      // wait for at least one replica whose link to this master is up
      const until = Date.now() + 20_000;
      for (;;) {
        const info = await clusterNodes(port);
        const me = info.find((n) => n.port === port);
        const replicas = info.filter((n) => !n.master && me !== undefined && n.masterId === me.id && !n.fail).map((n) => n.port);
        const linked: number[] = [];
        for (const r of replicas) {
          const repl = await run('redis-cli', ['-p', String(r), 'info', 'replication']).catch(() => '');
          if (repl.includes('master_link_status:up')) linked.push(r);
        }
        if (linked.length > 0 || Date.now() > until) return linked;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop,
  };
}
