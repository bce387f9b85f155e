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
    this.changed(block, item.visible);
    if (block.count > MAX_BLOCK) this.cut(block, item);
  }

  /** A run was cut in two and `right` is its new right part: same block, same visible elements. */
  splitOff(right: IndexedRun): void {
    const block = right.left!.block!;
    right.block = block;
    block.count++;
    if (block.count > MAX_BLOCK) this.cut(block, right);
  }

  /** `right` is about to be joined into `left` and leave the list. */
  joining(left: IndexedRun, right: IndexedRun): void {
    const from = right.block!;
    const moved = right.visible;
    from.count--;
    this.changed(from, -moved);
    this.changed(left.block!, moved);
    right.block = null;
    if (from.count === 0) this.remove(from);
  }

  /** `delta` visible elements appeared in (or, negative, left) a run of `block`. */
  changed(block: Block, delta: number): void {
    if (delta === 0) return;
    block.visible += delta;
    if (this.valid > block.pos + 1) this.valid = block.pos + 1;
  }

  /** Visible elements before `item`. */
  indexOf(item: IndexedRun): number {
    let index = 0;
    const block = item.block!;
    for (let o = item.left; o !== null && o.block === block; o = o.left) index += o.visible;
    return this.offsetOf(block) + index;
  }

  /**
   * Where `item` is: its block's position, its rank among the block's runs
   * (together, its place in document order) and its index.
   */
  place(item: IndexedRun): { pos: number; rank: number; index: number } {
    let index = 0;
    let rank = 0;
    const block = item.block!;
    for (let o = item.left; o !== null && o.block === block; o = o.left) {
      index += o.visible;
      rank++;
    }
    return { pos: block.pos, rank, index: this.offsetOf(block) + index };
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
    this.blocks.splice(block.pos, 1);
    for (let k = block.pos; k < this.blocks.length; k++) this.blocks[k].pos = k;
    if (this.valid > block.pos) this.valid = block.pos;
  }
}
