/**
 * A real Redis Cluster for tests: six private `redis-server` processes on free loopback ports
 * (three masters, three replicas), joined with `redis-cli --cluster create`, deleted after.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
  /** Ports of the replicas of the master on `port`. */
  replicasOf(port: number): Promise<number[]>;
  /** Stops every node and deletes their files. */
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
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

/**
 * Starts a 6-node cluster (3 masters with one replica each). Fails with a clear message when
 * `redis-server` / `redis-cli` are missing.
 */
export async function startTestCluster(): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'qtasks-cluster-'));
  const ports: number[] = [];
  for (let i = 0; i < 6; i++) ports.push(await freePort());
  const nodes: ClusterNodeProcess[] = ports.map((port) => {
    const proc = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
      '--cluster-config-file', join(dir, `nodes-${port}.conf`), '--dir', dir,
      '--save', '', '--appendonly', 'no', '--cluster-node-timeout', '2000',
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
      const info = await clusterNodes(port);
      const me = info.find((n) => n.port === port);
      return info.filter((n) => !n.master && me !== undefined && n.masterId === me.id && !n.fail).map((n) => n.port);
    },
    stop,
  };
}
