export { type Codec, type Infer, type Limits, type EncodeState, type DecodeState, DEFAULT_LIMITS, encode, decode, decodeState, guardDecode } from './codec.js';
export { uint, int, INT_MIN, INT_MAX, float64, bool, bytes, fixed, string, readLength, readCount } from './primitives.js';
export { array, map, struct, constant, optional, union, lazy } from './composite.js';
export { type ValueEncoding, json, binary, valueEncodings, canonicalOf } from './values.js';
export { canonicalValue, checkCanonicalJson, type Canonical, type CanonicalLimits } from './canonical.js';
