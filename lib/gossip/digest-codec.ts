import { type Codec, readCount, uint } from '../codec/index.js';
import { need } from '../codec/codec.js';
import { errors } from '../errors.js';

/** Versions stay below this, so a digest can pack a version step and two flags into one safe varint. */
export const MAX_VERSION = 2 ** 48;

/**
 * How far back a digest says exactly when a member's keys last changed. A
 * key set further back than this is reported only as "not recently", which
 * is all a peer that is less than this many versions behind needs to know.
 */
export const KEYS_GAP_CAP = 128;

/** What a node knows of one member, in a digest. */
export interface DigestEntry {
  /** The member's life, as `memberRef(id, generation)`: 32 bits (a signed integer) that key every table... */
  ref: number;
  /** ...and 16 more, checked on lookup. */
  refCheck: number;
  /** How far the sender has seen it: its keys and heartbeats. */
  version: number;
  /**
   * `version` minus the version of the newest key the sender holds of it,
   * when that is below KEYS_GAP_CAP; undefined when no key is that recent.
   * A peer at or past the newest key can take `version` from the digest as
   * a heartbeat: no deltas need to travel for it.
   */
  keysGap: number | undefined;
  /** The sender believes the member dead: its version is no heartbeat to take. */
  dead: boolean;
}

/** The version a peer must hold of a member before it may take `entry.version` from the digest alone. */
export function heartbeatFloor(entry: DigestEntry): number {
  return entry.version - (entry.keysGap ?? KEYS_GAP_CAP);
}

/**
 * Digest entries, packed: sorted by version, each as a 6-byte reference, a
 * varint of (version step from the previous entry x 4 + dead x 2 + has-gap),
 * and the keys gap when there is one. In a cluster whose versions are
 * heartbeats, steps are small: about 7 bytes per member instead of an
 * id string and two counters. The encoder refuses entries out of version
 * order; the decoder refuses a count the bytes cannot hold, versions at or
 * past MAX_VERSION, and gaps that are not in their shortest form.
 */
export const digestEntriesCodec: Codec<DigestEntry[]> = {
  encodingLength(entries) {
    let length = uint.encodingLength(entries.length);
    let previous = 0;
    for (const entry of entries) {
      length += 6 + uint.encodingLength(head(entry, previous));
      if (entry.keysGap !== undefined) length += uint.encodingLength(entry.keysGap);
      previous = entry.version;
    }
    return length;
  },
  encode(entries, state) {
    uint.encode(entries.length, state);
    let previous = 0;
    for (const entry of entries) {
      state.buffer.writeInt32BE(entry.ref, state.offset);
      state.buffer.writeUInt16BE(entry.refCheck, state.offset + 4);
      state.offset += 6;
      uint.encode(head(entry, previous), state);
      if (entry.keysGap !== undefined) uint.encode(entry.keysGap, state);
      previous = entry.version;
    }
  },
  decode(state) {
    const count = readCount(state, 7);
    const entries = new Array<DigestEntry>(count);
    let version = 0;
    for (let i = 0; i < count; i++) {
      need(state, 6);
      const ref = state.buffer.readInt32BE(state.offset);
      const refCheck = state.buffer.readUInt16BE(state.offset + 4);
      state.offset += 6;
      const packed = uint.decode(state);
      version += Math.floor(packed / 4);
      if (version >= MAX_VERSION) throw errors.limit('digest version', version, MAX_VERSION - 1);
      let keysGap: number | undefined;
      if (packed & 1) {
        keysGap = uint.decode(state);
        if (keysGap >= KEYS_GAP_CAP || keysGap > version) throw errors.decode(`bad keys gap ${keysGap} at version ${version}`);
      }
      entries[i] = { ref, refCheck, version, keysGap, dead: (packed & 2) !== 0 };
    }
    return entries;
  },
};

function head(entry: DigestEntry, previous: number): number {
  const step = entry.version - previous;
  if (!Number.isSafeInteger(step) || step < 0 || entry.version >= MAX_VERSION) throw errors.invalidArgument(`digest entries must be in version order below ${MAX_VERSION}`);
  if (entry.keysGap !== undefined && !(Number.isSafeInteger(entry.keysGap) && entry.keysGap >= 0 && entry.keysGap < KEYS_GAP_CAP && entry.keysGap <= entry.version)) {
    throw errors.invalidArgument(`bad keys gap ${entry.keysGap}`);
  }
  return step * 4 + (entry.dead ? 2 : 0) + (entry.keysGap !== undefined ? 1 : 0);
}

/**
 * Our side of a member the peer's digest named, in a reply: undefined if we
 * do not hold that life; else how far our version is from the peer's, and
 * our keys gap and dead flag, as a `DigestEntry` would carry them.
 */
export interface RelativeEntry {
  diff: number;
  keysGap: number | undefined;
  dead: boolean;
}

/**
 * A reply's relative part: one varint per entry of the peer's digest, in
 * its order: 0 for a life we do not hold, else 1 + (zigzag(diff) x 4 +
 * dead x 2 + has-gap), then the gap if any. Heartbeats of one member seen
 * by two nodes are a few versions apart, so this is about a byte per member.
 */
export const relativeEntriesCodec: Codec<(RelativeEntry | undefined)[]> = {
  encodingLength(entries) {
    let length = uint.encodingLength(entries.length);
    for (const entry of entries) {
      length += uint.encodingLength(relativeHead(entry));
      if (entry?.keysGap !== undefined) length += uint.encodingLength(entry.keysGap);
    }
    return length;
  },
  encode(entries, state) {
    uint.encode(entries.length, state);
    for (const entry of entries) {
      uint.encode(relativeHead(entry), state);
      if (entry?.keysGap !== undefined) uint.encode(entry.keysGap, state);
    }
  },
  decode(state) {
    const count = readCount(state, 1);
    const entries = new Array<RelativeEntry | undefined>(count);
    for (let i = 0; i < count; i++) {
      const head = uint.decode(state);
      if (head === 0) continue;
      const packed = head - 1;
      const zigzag = Math.floor(packed / 4);
      const diff = zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2;
      let keysGap: number | undefined;
      if (packed & 1) {
        keysGap = uint.decode(state);
        if (keysGap >= KEYS_GAP_CAP) throw errors.decode(`bad keys gap ${keysGap}`);
      }
      entries[i] = { diff, keysGap, dead: (packed & 2) !== 0 };
    }
    return entries;
  },
};

function relativeHead(entry: RelativeEntry | undefined): number {
  if (entry === undefined) return 0;
  const { diff } = entry;
  if (!Number.isSafeInteger(diff) || Math.abs(diff) >= MAX_VERSION) throw errors.invalidArgument(`bad version difference ${diff}`);
  if (entry.keysGap !== undefined && !(Number.isSafeInteger(entry.keysGap) && entry.keysGap >= 0 && entry.keysGap < KEYS_GAP_CAP)) throw errors.invalidArgument(`bad keys gap ${entry.keysGap}`);
  const zigzag = diff >= 0 ? diff * 2 : -diff * 2 - 1;
  return 1 + zigzag * 4 + (entry.dead ? 2 : 0) + (entry.keysGap !== undefined ? 1 : 0);
}

/**
 * The peer's full digest entries from its reply to ours (`sent`): checked,
 * since the peer chose the differences (a version out of range, a gap
 * beyond the version or a count that is not ours is ERR_DECODE).
 */
export function expandReply(sent: readonly DigestEntry[], relative: readonly (RelativeEntry | undefined)[], extra: readonly DigestEntry[]): DigestEntry[] {
  if (relative.length !== sent.length) throw errors.decode(`reply names ${relative.length} members, our digest ${sent.length}`);
  const entries: DigestEntry[] = [];
  for (let i = 0; i < sent.length; i++) {
    const r = relative[i];
    if (r === undefined) continue;
    const version = sent[i].version + r.diff;
    if (version < 0 || version >= MAX_VERSION) throw errors.decode(`reply version ${version} out of range`);
    if (r.keysGap !== undefined && r.keysGap > version) throw errors.decode(`bad keys gap ${r.keysGap} at version ${version}`);
    entries.push({ ref: sent[i].ref, refCheck: sent[i].refCheck, version, keysGap: r.keysGap, dead: r.dead });
  }
  for (const entry of extra) entries.push(entry);
  return entries;
}
