// The encrypted variant passes the compliance suite (item 16 and the Tests
// section): every stream of the suite runs inside a Noise channel over TCP
// on 127.0.0.1, with the first replica as initiator and again as responder,
// for Model, a CRDT, Seq and MerkleStore. Raw peers write through the
// channel, so they are authenticated peers sending garbage.
import { compliance } from '../helpers/compliance.js';
import { merkle, model, orset, seq } from '../helpers/compliance-subjects.js';
import { encryptedLink } from '../helpers/encrypted-link.js';

for (const initiator of ['first', 'second'] as const) {
  compliance({ ...model, name: `encrypted model (${initiator} initiates)`, link: encryptedLink({ initiator }) });
}
compliance({ ...orset, name: 'encrypted orset', link: encryptedLink({ initiator: 'second' }) });
compliance({ ...seq, name: 'encrypted seq', link: encryptedLink() });
compliance({ ...merkle, name: 'encrypted merkle', link: encryptedLink() });
