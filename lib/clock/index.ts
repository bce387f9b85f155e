export { type Timestamp, type ClockOptions, HybridClock, compareStamps, wallTime, counter, fromWallTime, COUNTER_BITS, DEFAULT_MAX_DRIFT_MS } from './hlc.js';
