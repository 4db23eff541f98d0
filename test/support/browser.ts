/**
 * The Chromium that browser tests drive. Nothing is installed on the system: the test uses a browser
 * the machine already has (`CHROMIUM_PATH`, `chromium` on PATH, /usr/bin/chromium), else the one the
 * `@sparticuz/chromium` dev dependency carries inside its npm package. With neither, launching fails
 * with a message saying how to get one (a browser test never skips).
 */
import { execFileSync, execSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { Browser, chromium } from 'playwright-core';

/** Where a browser came from. */
export type BrowserSource = 'CHROMIUM_PATH' | 'system' | 'npm';

/** A Chromium executable and what it needs to start. */
export interface ChromiumBinary {
  path: string;
  source: BrowserSource;
  /** Extra environment (the bundled one may need its own shared libraries). */
  env: Record<string, string>;
}

/** Flags for a headless Chromium on a machine with a closed network, run as root. */
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

const HOW_TO_GET_ONE =
  'Install one (apt-get install chromium), point CHROMIUM_PATH at a Chromium or Chrome executable, ' +
  'or run npm install so that the @sparticuz/chromium dev dependency (a Chromium inside an npm package) is present';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A Chromium this machine already has, if any. */
export function systemChromium(): string | undefined {
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      const found = execSync(`command -v ${name}`, { encoding: 'utf8', shell: '/bin/sh', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      if (found && executable(found)) return found;
    } catch {
      // not on PATH
    }
  }
  return executable('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined;
}

/** The Chromium carried by `@sparticuz/chromium`, unpacked under the temp folder; undefined when the package is absent. */
export async function npmChromium(): Promise<ChromiumBinary | undefined> {
  let entry: string;
  try {
    entry = require.resolve('@sparticuz/chromium');
  } catch {
    return undefined;
  }
  const bundled = require(entry) as { executablePath(input?: string): Promise<string> };
  const path = await bundled.executablePath();
  const env: Record<string, string> = {};
  if (missingLibraries(path)) {
    // built for Amazon Linux: its own NSS/NSPR/expat come in al2023.tar.br, used only when the system lacks them
    const bin = join(dirname(entry), '..', '..', 'bin');
    const libs = join(tmpdir(), 'qtasks-chromium-al2023');
    if (!existsSync(join(libs, 'lib', 'libnss3.so'))) {
      mkdirSync(libs, { recursive: true });
      const tar = join(libs, 'al2023.tar');
      writeFileSync(tar, brotliDecompressSync(readFileSync(join(bin, 'al2023.tar.br'))));
      execFileSync('tar', ['-xf', tar, '-C', libs]);
    }
    env.LD_LIBRARY_PATH = [join(libs, 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  }
  return { path, source: 'npm', env };
}

function missingLibraries(path: string): boolean {
  try {
    return /not found/.test(execFileSync('ldd', [path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    return false;
  }
}

/** Finds a Chromium (see the module header); throws saying how to get one when there is none. */
export async function findChromium(): Promise<ChromiumBinary> {
  const given = process.env.CHROMIUM_PATH;
  if (given) {
    if (!executable(given)) throw new Error(`CHROMIUM_PATH is "${given}", which is not an executable file. ${HOW_TO_GET_ONE}.`);
    return { path: given, source: 'CHROMIUM_PATH', env: {} };
  }
  const system = systemChromium();
  if (system) return { path: system, source: 'system', env: {} };
  const bundled = await npmChromium();
  if (bundled) return bundled;
  throw new Error(`The browser test needs Chromium and this machine has none. ${HOW_TO_GET_ONE}.`);
}

/** Launches a headless Chromium: the one given, or the one {@link findChromium} picks. */
export async function launchChromium(binary?: ChromiumBinary): Promise<Browser> {
  const b = binary ?? (await findChromium());
  return chromium.launch({
    executablePath: b.path,
    args: FLAGS,
    env: { ...(process.env as Record<string, string>), ...b.env },
  });
}
