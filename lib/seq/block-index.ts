/** What the index needs of a run (item.ts's `Item`): its neighbours, its block and its visible elements. */
export interface IndexedRun {
  left: IndexedRun | null;
  right: IndexedRun | null;
  block: Block | null;
  readonly visible: number;
}

/** Most runs in one block before it is cut in two. */
const MAX_BLOCK = 128;

/** Consecutive runs in document order, with the number of visible elements they hold. */
export class Block {
  /** Visible elements in the block's runs. */
  visible = 0;
  /** Runs in the block. */
  count = 0;
  /** Position in the block list. */
  pos = 0;
}

/**
 * An order-statistic index over the run list: the runs are cut into blocks
 * of at most 128 consecutive runs, and each block counts its visible
 * elements. The index of a run (visible elements before it) is the sum over
 * the blocks before its own, kept as prefix sums that are recomputed lazily
 * from the first block that changed, plus a walk inside its block. Typing
 * near the end recomputes almost nothing; an edit anywhere costs at most one
 * pass over the blocks (runs / 64) and one over a block, instead of a walk
 * over the whole document.
 */
export class BlockIndex {
  private readonly blocks: Block[] = [];
  /** `offsets[k]`: visible elements before block k, valid for k < `valid`. */
  private readonly offsets: number[] = [];
  private valid = 0;
  /** Set by `place`. */
  placePos = 0;
  placeRank = 0;
  placeIndex = 0;
  /** Set by `locateInBlock`. */
  private inBlockIndex = 0;
  private inBlockRank = 0;
  /**
   * The finger: the run located last, with its visible elements and runs
   * before it in its block (`fingerBlock`). A live typist's next run lands
   * right after the previous one, so it is found from the finger in O(1)
   * instead of a walk over the block's runs (objects scattered in memory).
   * A change right before the finger moves its counts; any other change in
   * its block that may lie before it drops the finger.
   */
  private finger: IndexedRun | null = null;
  private fingerBlock: Block | null = null;
  private fingerIndex = 0;
  private fingerRank = 0;

  /** Number of blocks. */
  get size(): number {
    return this.blocks.length;
  }

  /** `item` was just linked into the list: it joins its left neighbour's block (or the right one's). */
  added(item: IndexedRun): void {
    let block = item.left?.block ?? item.right?.block;
    if (!block) {
      block = new Block();
      block.pos = this.blocks.length;
      this.blocks.push(block);
    }
    item.block = block;
    block.count++;
    if (block === this.fingerBlock && item.left !== this.finger) {
      if (item.right === this.finger) this.fingerShift(item.visible, 1);
      else this.dropFinger();
    }
    this.grew(block, item.visible);
    if (block.count > MAX_BLOCK) this.cut(block, item);
  }

  /** A run was cut in two and `right` is its new right part: same block, same visible elements. */
  splitOff(right: IndexedRun): void {
    const block = right.left!.block!;
    right.block = block;
    block.count++;
    if (block === this.fingerBlock && right.left !== this.finger) {
      if (right.right === this.finger) this.fingerShift(0, 1);
      else this.dropFinger();
    }
    if (block.count > MAX_BLOCK) this.cut(block, right);
  }

  /** `right` is about to be joined into `left` and leave the list. */
  joining(left: IndexedRun, right: IndexedRun): void {
    const from = right.block!;
    const moved = right.visible;
    if (right === this.finger && left.block === from) {
      // The finger's run joins its left neighbour: the finger moves onto it.
      this.finger = left;
      this.fingerIndex -= left.visible;
      this.fingerRank--;
    } else if (right.right === this.finger && from === this.fingerBlock) {
      // Right before the finger: its elements stay before it unless they move to another block.
      this.fingerShift(left.block === from ? 0 : -moved, -1);
    } else if (left !== this.finger && (from === this.fingerBlock || left.block === this.fingerBlock)) this.dropFinger();
    from.count--;
    this.grew(from, -moved);
    this.grew(left.block!, moved);
    right.block = null;
    if (from.count === 0) this.remove(from);
  }

  /** `delta` visible elements appeared in (or, negative, left) `run`. */
  changed(run: IndexedRun, delta: number): void {
    const block = run.block!;
    if (block === this.fingerBlock && run !== this.finger && run.left !== this.finger) {
      if (run.right === this.finger) this.fingerShift(delta, 0);
      else this.dropFinger();
    }
    this.grew(block, delta);
  }

  /** @internal For tests: `indexOf` and `place` by a walk of the block alone, as if there were no finger. */
  walkedPlace(item: IndexedRun): { index: number; rank: number } {
    this.dropFinger();
    this.place(item);
    return { index: this.placeIndex, rank: this.placeRank };
  }

  private grew(block: Block, delta: number): void {
    if (delta === 0) return;
    block.visible += delta;
    if (this.valid > block.pos + 1) this.valid = block.pos + 1;
  }

  /** A change right before the finger: `elements` and `runs` more before it in its block. */
  private fingerShift(elements: number, runs: number): void {
    this.fingerIndex += elements;
    this.fingerRank += runs;
  }

  private dropFinger(): void {
    this.finger = null;
    this.fingerBlock = null;
  }

  /** Visible elements before `item`. */
  indexOf(item: IndexedRun): number {
    this.locateInBlock(item);
    return this.offsetOf(item.block!) + this.inBlockIndex;
  }

  /**
   * Where `item` is: its block's position and its rank among the block's
   * runs (together, its place in document order), and its index, in
   * `placePos`, `placeRank` and `placeIndex` (fields, so that describing a
   * change allocates nothing per run).
   */
  place(item: IndexedRun): void {
    this.locateInBlock(item);
    const block = item.block!;
    this.placePos = block.pos;
    this.placeRank = this.inBlockRank;
    this.placeIndex = this.offsetOf(block) + this.inBlockIndex;
  }

  /**
   * Visible elements and runs before `item` in its block, into
   * `inBlockIndex` and `inBlockRank`, and leaves the finger on `item`. If
   * `item` is the finger or its neighbour, the finger's counts give the
   * answer. Otherwise it walks both ways at once and stops at the nearer end
   * of the block (from the right end, the block's own counts give the
   * answer), so a run costs at most half a block's walk.
   */
  private locateInBlock(item: IndexedRun): void {
    const block = item.block!;
    const finger = this.finger;
    if (finger !== null && block === this.fingerBlock) {
      if (item === finger) {
        this.inBlockIndex = this.fingerIndex;
        this.inBlockRank = this.fingerRank;
        return;
      }
      if (item.left === finger) {
        this.setFinger(item, block, this.fingerIndex + finger.visible, this.fingerRank + 1);
        return;
      }
      if (item.right === finger) {
        this.setFinger(item, block, this.fingerIndex - item.visible, this.fingerRank - 1);
        return;
      }
    }
    let before = 0;
    let after = 0;
    let steps = 0;
    let l = item.left;
    let r = item.right;
    while (true) {
      if (l === null || l.block !== block) {
        this.setFinger(item, block, before, steps);
        return;
      }
      if (r === null || r.block !== block) {
        this.setFinger(item, block, block.visible - item.visible - after, block.count - 1 - steps);
        return;
      }
      before += l.visible;
      after += r.visible;
      steps++;
      l = l.left;
      r = r.right;
    }
  }

  private setFinger(item: IndexedRun, block: Block, index: number, rank: number): void {
    this.inBlockIndex = index;
    this.inBlockRank = rank;
    this.finger = item;
    this.fingerBlock = block;
    this.fingerIndex = index;
    this.fingerRank = rank;
  }

  private offsetOf(block: Block): number {
    const blocks = this.blocks;
    const offsets = this.offsets;
    for (let k = this.valid; k <= block.pos; k++) offsets[k] = k === 0 ? 0 : offsets[k - 1] + blocks[k - 1].visible;
    if (this.valid <= block.pos) this.valid = block.pos + 1;
    return offsets[block.pos];
  }

  /** Cuts a full block in two halves; `near` is any run of it. */
  private cut(block: Block, near: IndexedRun): void {
    if (block === this.fingerBlock) this.dropFinger();
    let first = near;
    while (first.left !== null && first.left.block === block) first = first.left;
    let item: IndexedRun | null = first;
    for (let i = 0; i < block.count >> 1; i++) item = item!.right;
    const next = new Block();
    while (item !== null && item.block === block) {
      item.block = next;
      next.count++;
      next.visible += item.visible;
      item = item.right;
    }
    block.count -= next.count;
    block.visible -= next.visible;
    this.blocks.splice(block.pos + 1, 0, next);
    for (let k = block.pos + 1; k < this.blocks.length; k++) this.blocks[k].pos = k;
    if (this.valid > block.pos + 1) this.valid = block.pos + 1;
  }

  private remove(block: Block): void {
    if (block === this.fingerBlock) this.dropFinger();
    this.blocks.splice(block.pos, 1);
    for (let k = block.pos; k < this.blocks.length; k++) this.blocks[k].pos = k;
    if (this.valid > block.pos) this.valid = block.pos;
  }
}
