/**
 * Private Redis servers for the cluster benchmark: one plain `redis-server`, and a Redis Cluster of
 * six (three masters, three replicas) joined with `redis-cli --cluster create`, on free loopback
 * ports, without persistence; `stop()` kills them and deletes their files.
 */
'use strict';

const { execFile, spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

/** A TCP port nobody listens on now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`)) : resolve(stdout)));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startNodes(count, extra) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qtasks-bench-redis-'));
  const ports = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const procs = ports.map((port) => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', ...extra(port, dir)];
    const p = spawn('redis-server', args, { stdio: 'ignore' });
    p.on('error', () => undefined);
    return p;
  });
  const stop = async () => {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => (p.exitCode !== null || p.signalCode !== null ? undefined : new Promise((r) => p.once('exit', r)))));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const port of ports) {
      const until = Date.now() + 10_000;
      while (!(await run('redis-cli', ['-p', String(port), 'ping']).catch(() => '')).includes('PONG')) {
        if (Date.now() > until) throw new Error(`redis-server did not start on port ${port} (is it installed?)`);
        await sleep(50);
      }
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, pids: procs.map((p) => p.pid), stop };
}

/** One plain redis-server: `{ url, port, pids, stop }`. */
async function startRedis() {
  const { ports, pids, stop } = await startNodes(1, () => []);
  return { url: `redis://127.0.0.1:${ports[0]}`, port: ports[0], pids, stop };
}

/** A cluster of three masters and three replicas: `{ startNodes, masters, ports, pids, stop }`. */
async function startCluster() {
  const { ports, pids, stop } = await startNodes(6, (port, dir) => ['--cluster-enabled', 'yes', '--cluster-config-file', path.join(dir, `nodes-${port}.conf`), '--cluster-node-timeout', '5000']);
  try {
    await run('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '1', '--cluster-yes']);
    const until = Date.now() + 20_000;
    for (;;) {
      const states = await Promise.all(ports.map((p) => run('redis-cli', ['-p', String(p), 'cluster', 'info']).catch(() => '')));
      if (states.every((s) => s.includes('cluster_state:ok'))) break;
      if (Date.now() > until) throw new Error('the benchmark Redis Cluster did not reach cluster_state:ok');
      await sleep(100);
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const nodes = (await run('redis-cli', ['-p', String(ports[0]), 'cluster', 'nodes'])).trim().split('\n').map((l) => l.split(' '));
  const masters = nodes.filter((f) => f[2].includes('master')).map((f) => Number(f[1].split(':')[1].split('@')[0]));
  return { startNodes: ports.slice(0, 3).map((port) => ({ host: '127.0.0.1', port })), masters, ports, pids, stop };
}

/** FLUSHALL on each port (masters; replicas follow). */
async function flush(ports) {
  await Promise.all(ports.map((p) => run('redis-cli', ['-p', String(p), 'flushall'])));
}

module.exports = { startRedis, startCluster, flush, run, freePort };
