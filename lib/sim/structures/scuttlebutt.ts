import { compareStamps } from '../../clock/index.js';
import { Log } from '../../scuttlebutt/log.js';
import { Model } from '../../scuttlebutt/model.js';
import type { StructureUnderTest } from '../structure.js';

const KEYS = 20;

/**
 * Model: sets over 20 keys, with a delete now and then, so last-writer-wins
 * and delete markers are exercised. A write is held by a replica that has it
 * or a later write of the same key (LWW: a superseded write is not lost).
 */
export const modelUnderTest: StructureUnderTest<Model> = {
  name: 'model',
  create: ({ id, now }) => new Model({ id, name: 'sim', clock: { now } }),
  mutate(model, i) {
    const key = `k${i % KEYS}`;
    if (i % 7 === 6 && model.has(key)) model.delete(key);
    else model.set(key, { i, from: model.id });
    const meta = model.meta(key)!;
    return { key: `${key}@${meta.source}:${meta.ts}`, data: { key, source: meta.source, ts: meta.ts } };
  },
  state: (model) => {
    // Values and the winning write's identity, delete markers included.
    const out: Record<string, unknown> = {};
    for (let k = 0; k < KEYS; k++) {
      const meta = model.meta(`k${k}`);
      if (meta) out[`k${k}`] = { value: model.get(`k${k}`) ?? null, ...meta };
    }
    return out;
  },
  holds(model, write) {
    const { key, source, ts } = write.data as { key: string; source: string; ts: number };
    const meta = model.meta(key);
    return meta !== undefined && compareStamps(meta.ts, meta.source, ts, source) >= 0;
  },
};

/** Values each log holds, kept up to date by observing what it applies (scanning the log per check would be quadratic). */
/**
 * Model used as a grow-only set: every write sets a fresh key, so nothing is
 * superseded and every value must reach every node (Maelstrom's broadcast).
 */
export const modelSetUnderTest: StructureUnderTest<Model> = {
  name: 'model-set',
  create: ({ id, now }) => new Model({ id, name: 'sim', clock: { now } }),
  mutate(model, i) {
    model.set(`v${i}`, i);
    return { key: `v${i}` };
  },
  state: (model) => model.toJSON(),
  holds: (model, write) => model.has(write.key),
  elements: (model) => [...model.keys()],
};

const logValues = new WeakMap<Log, Set<string>>();

/** Log: appends of unique values; set-like, so duplicated or phantom entries are caught. */
export const logUnderTest: StructureUnderTest<Log> = {
  name: 'log',
  create({ id, now }) {
    const log = new Log({ id, name: 'sim', clock: { now } });
    const values = new Set<string>();
    logValues.set(log, values);
    log.observe({ applied: (entry) => values.add(String(JSON.parse(entry.json))), superseded: () => {} });
    return log;
  },
  mutate(log, i) {
    log.append(`e${i}`);
    return { key: `e${i}` };
  },
  state: (log) => log.toJSON().map((r) => [r.source, r.seq, r.ts, r.value]),
  holds: (log, write) => logValues.get(log)!.has(write.key),
  elements: (log) => [...log.entries()].map((e) => String(e.value)),
};
