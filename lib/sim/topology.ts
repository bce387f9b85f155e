/**
 * Who connects to whom. Edges are undirected pairs of node names.
 * - `full`: every pair (n(n-1)/2 links).
 * - `star`: node 0 in the middle.
 * - `line`, `ring`: a chain, closed or not.
 * - `tree`: a tree of fan-out `fanout` (default 4), node 0 at the root.
 * - `grid`: a square-ish grid, each node linked to its right and lower neighbours.
 */
export type TopologyKind = 'full' | 'star' | 'line' | 'ring' | 'tree' | 'grid';

export const TOPOLOGIES: readonly TopologyKind[] = ['full', 'star', 'line', 'ring', 'tree', 'grid'];

export function topology(kind: TopologyKind, nodes: readonly string[], fanout = 4): [string, string][] {
  const n = nodes.length;
  const edges: [string, string][] = [];
  const add = (i: number, j: number) => edges.push([nodes[i]!, nodes[j]!]);
  switch (kind) {
    case 'full':
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) add(i, j);
      break;
    case 'star':
      for (let i = 1; i < n; i++) add(0, i);
      break;
    case 'line':
      for (let i = 1; i < n; i++) add(i - 1, i);
      break;
    case 'ring':
      for (let i = 1; i < n; i++) add(i - 1, i);
      if (n > 2) add(n - 1, 0);
      break;
    case 'tree':
      for (let i = 1; i < n; i++) add(Math.floor((i - 1) / fanout), i);
      break;
    case 'grid': {
      const width = Math.ceil(Math.sqrt(n));
      for (let i = 0; i < n; i++) {
        if ((i + 1) % width !== 0 && i + 1 < n) add(i, i + 1);
        if (i + width < n) add(i, i + width);
      }
      break;
    }
    default:
      throw new RangeError(`unknown topology ${kind as string}`);
  }
  return edges;
}
