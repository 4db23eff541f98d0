/**
 * Shared helpers of the benchmarks: medians and percentiles, number formatting, the table header
 * (date, Node, machine) and writing the latest table into bench/RESULTS.md.
 */
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const RESULTS = path.join(__dirname, '..', 'RESULTS.md');

/** Median of numbers (NaN entries ignored); NaN for none. */
function median(values) {
  const v = values.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** The p-th percentile (0..100) of numbers, nearest rank. */
function percentile(values, p) {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
}

/** 123456.7 → "123.5k", NaN → "n/a". */
function fmtInt(x) {
  if (typeof x !== 'number' || Number.isNaN(x)) return 'n/a';
  if (x >= 10_000) return `${(x / 1000).toFixed(1)}k`;
  return Math.round(x).toLocaleString('en-US');
}

/** 1.234 → "1.23×", NaN → "n/a". */
function fmtRatio(x) {
  return typeof x === 'number' && Number.isFinite(x) ? `${x.toFixed(2)}×` : 'n/a';
}

/** Milliseconds with 2 decimals, NaN → "n/a". */
function fmtMs(x) {
  return typeof x === 'number' && Number.isFinite(x) ? x.toFixed(2) : 'n/a';
}

/** A Markdown heading plus the date, Node version, machine and any extra facts. */
function header(title, extra = []) {
  const cpus = os.cpus();
  const facts = [
    new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    `Node ${process.version}`,
    `${cpus.length} × ${cpus[0] ? cpus[0].model.trim() : 'cpu'}`,
    `${os.platform()} ${os.arch()}`,
    ...extra,
  ];
  return `### ${title}\n\n${facts.join(' · ')}`;
}

/** Replaces (or appends) the section `name` of bench/RESULTS.md with `text`. */
function writeSection(name, text) {
  const start = `<!-- ${name}:start -->`;
  const end = `<!-- ${name}:end -->`;
  let doc = fs.existsSync(RESULTS)
    ? fs.readFileSync(RESULTS, 'utf8')
    : '# qtasks benchmark results\n\nLatest run of `npm run bench` (written by the benchmarks; see README.md).\n';
  const block = `${start}\n${text}\n${end}`;
  const i = doc.indexOf(start);
  const j = doc.indexOf(end);
  if (i >= 0 && j > i) doc = doc.slice(0, i) + block + doc.slice(j + end.length);
  else doc = `${doc.trimEnd()}\n\n${block}\n`;
  fs.writeFileSync(RESULTS, doc);
}

/** Version of an installed package (read from node_modules, whatever its `exports`). */
function pkgVersion(name) {
  const file = path.join(__dirname, '..', '..', 'node_modules', name, 'package.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).version;
}

module.exports = { pkgVersion, median, percentile, fmtInt, fmtRatio, fmtMs, header, writeSection };
