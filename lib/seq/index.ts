export { Seq, type SeqOptions, type SeqChange } from './seq.js';
export { SeqDocument, type DeltaOp } from './document.js';
export { SeqSession, seqMessageCodec, type SeqMessage } from './session.js';
export { decodeUpdate, decodeStateVector, encodeStateVector } from './update-codec.js';
