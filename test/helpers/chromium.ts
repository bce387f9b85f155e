// Where the browser tests find Chromium (the system's `chromium` package, or
// CHROMIUM_PATH), and why they skip where there is none.
import { existsSync } from 'node:fs';

export function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((path): path is string => path !== undefined && path !== '' && existsSync(path));
}

/** The reason to skip a browser test, or false where Chromium is there. */
export function noChromium(chromium: string | undefined): string | false {
  return chromium === undefined ? 'no Chromium found (install the chromium package, or set CHROMIUM_PATH)' : false;
}
