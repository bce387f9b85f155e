export { Scuttlebutt, type ScuttlebuttOptions, type UpdateObserver } from './scuttlebutt.js';
export { ScuttlebuttSession } from './session.js';
export { type Update, type UpdateCodec } from './update.js';
export { type Clock } from './messages.js';
export { Model, type ModelOptions, type ModelUpdate, type ChangeMeta, type ModelListener } from './model.js';
export { Log, type LogEntry, type LogRecord, type LogOptions } from './log.js';
export { signing } from './signing.js';
export { persist, Persistence, type PersistOptions } from './persist.js';
export { createSnapshotStream, loadSnapshot } from './snapshot.js';
