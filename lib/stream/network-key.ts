import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from 'node:crypto';
import { encode, string, struct, fixed } from '../codec/index.js';
import { errors } from '../errors.js';

/** Bytes of each side's challenge. */
export const CHALLENGE_BYTES = 32;
/** Bytes of a proof (HMAC-SHA-256). */
export const PROOF_BYTES = 32;
/** Shortest network key accepted, in bytes. */
export const MIN_KEY_BYTES = 16;

// What a proof covers: who proves to whom, over whose fresh challenge, in
// which document. A proof made for one connection, direction or document
// is worthless in any other; one side's proof is never the other's.
const proofInput = struct({
  label: string,
  verifierChallenge: fixed(CHALLENGE_BYTES),
  proverChallenge: fixed(CHALLENGE_BYTES),
  prover: string,
  verifier: string,
  kind: string,
  name: string,
});
const LABEL = 'tendril network key proof v1';

/**
 * A network key, and the challenge-response that proves knowledge of it
 * without revealing it: each side sends a fresh random challenge; each
 * answers with HMAC-SHA-256 under the key over both challenges, both replica
 * ids (prover first) and the document. Nothing of the data flows until the
 * peer's proof has checked out.
 */
export class NetworkKey {
  private readonly key: Uint8Array;

  constructor(key: Uint8Array | string) {
    const bytes = typeof key === 'string' ? new TextEncoder().encode(key) : Uint8Array.from(key);
    if (bytes.length < MIN_KEY_BYTES) throw errors.invalidArgument(`a network key needs at least ${MIN_KEY_BYTES} bytes`);
    this.key = bytes;
  }

  /** A fresh challenge; `random` may be injected (the simulator does), and must be unpredictable otherwise. */
  static challenge(random: (n: number) => Uint8Array = randomBytes): Uint8Array {
    const challenge = random(CHALLENGE_BYTES);
    if (challenge.length !== CHALLENGE_BYTES) throw errors.invalidArgument(`a challenge is ${CHALLENGE_BYTES} bytes`);
    return challenge;
  }

  /** Our proof for the peer: over its challenge and ours. */
  prove(ours: ProofContext): Uint8Array {
    return this.mac(ours.peerChallenge, ours.ownChallenge, ours.ownId, ours.peerId, ours.kind, ours.name);
  }

  /** Checks the peer's proof over our challenge and its own; ERR_AUTH if it is not the key's. */
  verify(ours: ProofContext, proof: Uint8Array): void {
    const expected = this.mac(ours.ownChallenge, ours.peerChallenge, ours.peerId, ours.ownId, ours.kind, ours.name);
    if (!equalConstantTime(expected, proof)) throw errors.auth('the peer does not hold the network key');
  }

  private mac(verifierChallenge: Uint8Array, proverChallenge: Uint8Array, prover: string, verifier: string, kind: string, name: string): Uint8Array {
    const input = encode(proofInput, { label: LABEL, verifierChallenge, proverChallenge, prover, verifier, kind, name });
    return hmac(sha256, this.key, input);
  }
}

export interface ProofContext {
  ownChallenge: Uint8Array;
  peerChallenge: Uint8Array;
  ownId: string;
  peerId: string;
  kind: string;
  name: string;
}

/** Compares in time that depends only on the length, so a forger learns nothing from timing. */
function equalConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}
