// The stdio demo: two peer processes whose stdin and stdout are piped into
// each other, exactly as `a | b` and `b | a` would in a shell.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const peer = join(dirname(fileURLToPath(import.meta.url)), 'peer.js');
const left = spawn(process.execPath, [peer, 'left'], { stdio: ['pipe', 'pipe', 'inherit'] });
const right = spawn(process.execPath, [peer, 'right'], { stdio: ['pipe', 'pipe', 'inherit'] });
left.stdout.pipe(right.stdin);
right.stdout.pipe(left.stdin);
