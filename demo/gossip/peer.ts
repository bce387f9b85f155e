// One node of the gossip demo, as its own process:
//   node peer.js <port> <seed port> peer|updater <updater port> <cluster size>
// Reports its view to the parent as one JSON line on stdout every 250 ms.
// The updater sets `somekey`, and a key that expires five seconds later, as
// grapevine's README does: once it sees the whole cluster, plus a second.
import { Gossiper } from '../../lib/index.js';

const [port, seedPort, role, updaterPort, size] = process.argv.slice(2);
const gossiper = new Gossiper({ port: Number(port), seeds: [`127.0.0.1:${seedPort}`], cluster: 'demo', timing: { gossipIntervalMs: 250 } });
await gossiper.start();

const updater = `127.0.0.1:${updaterPort}`;
if (role === 'updater') {
  const waiting = setInterval(() => {
    if (gossiper.livePeers().length < Number(size) - 1) return;
    clearInterval(waiting);
    setTimeout(() => {
      gossiper.setLocalState('somekey', 'somevalue');
      gossiper.setLocalState('lease', 'held', Date.now() + 5000); // gone everywhere five seconds from now
    }, 1000);
  }, 100);
}

setInterval(() => {
  const from = role === 'updater' ? undefined : updater;
  const value = (key: string) => (from === undefined ? gossiper.getLocalState(key) : gossiper.peerValue(from, key));
  console.log(JSON.stringify({ port: Number(port), live: gossiper.livePeers().length, somekey: value('somekey') ?? null, lease: value('lease') ?? null }));
}, 250);
