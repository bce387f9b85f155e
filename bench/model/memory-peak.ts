// Peak memory of a full sync: the JavaScript heap, and the heap together
// with ArrayBuffer memory. A replica may keep part of its state in typed
// arrays (the tendril Model keeps its index, timestamps and hashes there),
// which live outside the heap: the second figure counts them, and any
// frames and update buffers in flight, for every contestant alike.

/** Tracks the highest heap use, and heap plus ArrayBuffers, sampling every millisecond and on demand. */
export class MemoryPeak {
  private readonly heapBase: number;
  private readonly totalBase: number;
  private heapPeak: number;
  private totalPeak: number;
  private readonly timer: NodeJS.Timeout;

  constructor() {
    (globalThis as { gc?: () => void }).gc?.();
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    this.heapBase = this.heapPeak = heapUsed;
    this.totalBase = this.totalPeak = heapUsed + arrayBuffers;
    this.timer = setInterval(() => this.sample(), 1);
  }

  sample(): void {
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    if (heapUsed > this.heapPeak) this.heapPeak = heapUsed;
    if (heapUsed + arrayBuffers > this.totalPeak) this.totalPeak = heapUsed + arrayBuffers;
  }

  /** Bytes above the baseline at the peaks: of the heap, and of the heap with ArrayBuffers. */
  stop(): { heapBytes: number; totalBytes: number } {
    this.sample();
    clearInterval(this.timer);
    return { heapBytes: this.heapPeak - this.heapBase, totalBytes: this.totalPeak - this.totalBase };
  }
}
