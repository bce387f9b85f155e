// One gossip node as an OS process, for the real-process test:
// node gossip-node.js <port> <seed-port> [key=value]
// Prints one JSON line per event on stdout; reads commands from stdin:
// "set <key> <json>" and "peers".
import { createInterface } from 'node:readline';
import { Gossiper } from '../../lib/gossip/gossiper.js';

const [port, seedPort, initial] = process.argv.slice(2);
const gossiper = new Gossiper({
  port: Number(port),
  seeds: [`127.0.0.1:${seedPort}`],
  cluster: 'process-test',
  timing: { gossipIntervalMs: 100, removeAfterMs: 60_000 },
  phi: { acceptableHeartbeatPauseMs: 1000, minStdDeviationMs: 50 },
});
const say = (event: string, ...args: unknown[]) => process.stdout.write(JSON.stringify([event, ...args]) + '\n');
for (const event of ['new_peer', 'peer_alive', 'peer_failed', 'peer_removed']) {
  gossiper.on(event, (peer: string) => say(event, peer, gossiper.peerGeneration(peer), Object.fromEntries(gossiper.peerKeys(peer).map((k) => [k, gossiper.peerValue(peer, k)]))));
}
gossiper.on('update', (peer: string, key: string, value: unknown) => say('update', peer, key, value));
if (initial) {
  const [key, value] = initial.split('=');
  gossiper.setLocalState(key, value);
}
createInterface({ input: process.stdin }).on('line', (line) => {
  const [command, key, ...rest] = line.split(' ');
  if (command === 'set') gossiper.setLocalState(key, JSON.parse(rest.join(' ')));
  if (command === 'peers') say('peers', gossiper.livePeers().sort(), gossiper.deadPeers().sort());
});
process.stdin.on('end', () => void gossiper.stop().then(() => process.exit(0)));
await gossiper.start();
say('started', gossiper.id, gossiper.generation);
