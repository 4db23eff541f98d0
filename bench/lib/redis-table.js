/**
 * Renders the Redis benchmark: one Markdown table of medians, the runs behind them, and the
 * ratios of qtasks against the best peer for each figure.
 */
'use strict';

const { fmtInt, fmtMs, fmtRatio, header } = require('./report');

const NAMES = { qtasks: 'qtasks', bullmq: 'BullMQ', 'bee-queue': 'Bee-Queue', ceiling: 'bare Lua (ceiling)' };

/** Columns: key, title, formatter, true when higher is better. */
const COLUMNS = [
  ['enqueue', 'enqueue / s', fmtInt, true],
  ['process1', 'process / s (1 process)', fmtInt, true],
  ['process2', 'process / s (2 processes)', fmtInt, true],
  ['p50a', 'one app p50 ms', fmtMs, false],
  ['p99a', 'one app p99 ms', fmtMs, false],
  ['p50b', 'two apps p50 ms', fmtMs, false],
  ['p99b', 'two apps p99 ms', fmtMs, false],
  ['p50c', 'worker process p50 ms', fmtMs, false],
  ['p99c', 'worker process p99 ms', fmtMs, false],
  ['p50d', 'long-running worker p50 ms', fmtMs, false],
  ['p99d', 'long-running worker p99 ms', fmtMs, false],
  ['p50e', 'sporadic tasks p50 ms', fmtMs, false],
  ['p99e', 'sporadic tasks p99 ms', fmtMs, false],
];

/** Which workload produces a column (for error messages). */
const WORKLOAD_OF = {
  enqueue: 'throughput', process1: 'throughput', process2: 'two processes',
  p50a: 'round trip', p99a: 'round trip', p50b: 'round trip two apps', p99b: 'round trip two apps',
  p50c: 'round trip two processes', p99c: 'round trip two processes',
  p50d: 'round trip two processes', p99d: 'round trip two processes',
  p50e: 'round trip two processes', p99e: 'round trip two processes',
};

function cell(row, key, fmt) {
  const v = row.median[key];
  if (typeof v === 'number' && !Number.isNaN(v)) return fmt(v);
  return 'n/a';
}

/** The best peer (not qtasks) for one column: `{ name, value }` or undefined. */
function bestPeer(rows, key, higher) {
  let best;
  for (const r of rows) {
    const v = r.median[key];
    if (r.kind === 'qtasks' || r.kind === 'ceiling' || typeof v !== 'number' || Number.isNaN(v)) continue;
    if (!best || (higher ? v > best.value : v < best.value)) best = { name: NAMES[r.kind], value: v };
  }
  return best;
}

/**
 * The whole report. `rows`: `{ kind, version, median: { enqueue, process1, process2, p50, p99 },
 * runs: { key: number[] }, errors: { workload: message } }`.
 */
function renderRedis(rows, o) {
  const lines = [];
  lines.push(
    header(`redis: ${o.total.toLocaleString('en-US')} no-op jobs, concurrency ${o.concurrency}, median of ${o.rounds}`, [
      `Redis ${o.redis} (${o.url.replace(/\/\/[^@]*@/, '//')}, PING p50 ${fmtMs(o.ping)} ms)`,
    ]),
  );
  lines.push('');
  lines.push(`| engine | ${COLUMNS.map((c) => c[1]).join(' | ')} |`);
  lines.push(`|---|${COLUMNS.map(() => '---').join('|')}|`);
  for (const r of rows) {
    lines.push(`| ${NAMES[r.kind]} ${r.version} | ${COLUMNS.map(([k, , f]) => cell(r, k, f)).join(' | ')} |`);
  }
  lines.push('');
  const ours = rows.find((r) => r.kind === 'qtasks');
  if (ours) {
    for (const [key, title, fmt, higher] of COLUMNS) {
      const best = bestPeer(rows, key, higher);
      const mine = ours.median[key];
      if (!best) continue;
      if (typeof mine !== 'number' || Number.isNaN(mine)) {
        const err = ours.errors[WORKLOAD_OF[key]];
        lines.push(`- ${title}: qtasks n/a${err ? ` (${err})` : ''}; best peer ${best.name} ${fmt(best.value)}`);
        continue;
      }
      const ratio = mine / best.value;
      const verdict = higher ? `ours / ${best.name}` : `ours / ${best.name} (lower is better)`;
      lines.push(`- ${title}: ${verdict} **${fmtRatio(ratio)}** (${fmt(mine)} vs ${fmt(best.value)})`);
    }
  }
  const ceiling = rows.find((r) => r.kind === 'ceiling');
  if (ours && ceiling) {
    for (const key of ['enqueue', 'process1']) {
      const [m, c] = [ours.median[key], ceiling.median[key]];
      if (typeof m === 'number' && typeof c === 'number') lines.push(`- ${key === 'enqueue' ? 'enqueue' : 'process (1 process)'}: ours / bare-Lua ceiling **${fmtRatio(m / c)}** (${fmtInt(m)} vs ${fmtInt(c)})`);
    }
    // the round trips against the bare-Lua floor of a trip, ours and the fastest peer's
    const trips = [];
    for (const [key, title] of COLUMNS.filter(([k]) => /^p50/.test(k))) {
      const [m, c] = [ours.median[key], ceiling.median[key]];
      if (typeof m !== 'number' || typeof c !== 'number') continue;
      const best = bestPeer(rows, key, false);
      trips.push(`${title.replace(' p50 ms', '')} ${fmtRatio(m / c)}${best ? ` (${best.name} ${fmtRatio(best.value / c)})` : ''}`);
    }
    if (trips.length > 0) lines.push(`- round trip p50: ours / bare-Lua ceiling (lower is better; the fastest peer's in brackets): ${trips.join(', ')}`);
  }
  // where a trip's CPU goes with the worker in another process: young (c), long-running (d) and
  // sporadic (e)
  const cpuRows = rows.filter((r) => typeof r.median.cpuPc === 'number');
  if (cpuRows.length > 0) {
    // the worker process's CPU with its main thread's share (the rest is V8's compiler and GC
    // threads: a young worker's optimising compiles show there)
    const sum = (r, s) => `${cell(r, `cpuP${s}`, fmtInt)} + ${cell(r, `cpuW${s}`, fmtInt)}/${cell(r, `cpuWm${s}`, fmtInt)} + ${cell(r, `cpuR${s}`, fmtInt)}`;
    const shown = cpuRows.map((r) => `${NAMES[r.kind]} ${sum(r, 'c')} (${sum(r, 'd')}) [${sum(r, 'e')}]`);
    lines.push(`- CPU per measured trip with the worker in another process, producer + worker process/its main thread + Redis, µs: ${shown.join('; ')}; in brackets the long-running worker, in square brackets the sporadic tasks (with the pauses' timers). The worker process's CPU beyond its main thread is V8's compiler and GC threads (where a young worker's optimising compiles show)`);
    const scripted = cpuRows.filter((r) => typeof r.median.scrc === 'number').map((r) => `${NAMES[r.kind]} ${cell(r, 'scrc', fmtInt)} (${cell(r, 'scrd', fmtInt)}) [${cell(r, 'scre', fmtInt)}]`);
    if (scripted.length > 0) lines.push(`- Redis time per measured trip in scripts and transactions (EVALSHA, EXEC: INFO commandstats), µs: ${scripted.join('; ')}; brackets as above`);
  }
  for (const r of rows) {
    const dropped = ['droppedb', 'droppedc', 'droppedd', 'droppede'].map((k) => (r.runs[k] ?? []).reduce((a, b) => a + b, 0));
    if (dropped.some((n) => n > 0)) {
      lines.push(`- ${NAMES[r.kind]} dropped results (counted, not timed): ${dropped[0]} with two apps, ${dropped[1]} across processes, ${dropped[2]} with the long-running worker, ${dropped[3]} with sporadic tasks`);
    }
  }
  for (const r of rows) {
    for (const [workload, msg] of Object.entries(r.errors)) {
      lines.push(`- ${NAMES[r.kind]} ${workload}: ${r.failures[workload]} run(s) failed: ${msg}`);
    }
  }
  lines.push('');
  lines.push('<details><summary>every run</summary>');
  lines.push('');
  lines.push(`| engine | ${COLUMNS.map((c) => c[1]).join(' | ')} |`);
  lines.push(`|---|${COLUMNS.map(() => '---').join('|')}|`);
  for (const r of rows) {
    const cells = COLUMNS.map(([k, , f]) => (r.runs[k] ?? []).map(f).join(', ') || 'n/a');
    lines.push(`| ${NAMES[r.kind]} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  lines.push('</details>');
  return lines.join('\n');
}

module.exports = { renderRedis };
