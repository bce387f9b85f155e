import type { RumorVariant } from './rumor-node.js';

/** One row of a table of Demers et al. 1987: residue s, traffic m (rumour messages per site), delays t_ave and t_last in cycles. */
export interface PaperRow {
  table: string;
  k: number;
  residue: number;
  traffic: number;
  tAve: number;
  tLast: number;
}

interface Table {
  name: string;
  variant: RumorVariant;
  /** Rows for k = 1, 2, ...: [s, m, t_ave, t_last]. */
  rows: [number, number, number, number][];
}

/**
 * The simulation tables of Demers et al., "Epidemic Algorithms for
 * Replicated Database Maintenance" (PODC 1987; Xerox PARC CSL-89-1),
 * section 1.4: one update injected at one of 1,000 sites, uniform choice
 * of partners, no connection limit.
 */
export const DEMERS_TABLES: readonly Table[] = [
  {
    name: 'Table 1',
    variant: { interest: 'feedback', stop: 'counter', direction: 'push' },
    rows: [
      [0.18, 1.7, 11.0, 16.8],
      [0.037, 3.3, 12.1, 16.9],
      [0.011, 4.5, 12.5, 17.4],
      [0.0036, 5.6, 12.7, 17.5],
      [0.0012, 6.7, 12.8, 17.7],
    ],
  },
  {
    name: 'Table 2',
    variant: { interest: 'blind', stop: 'coin', direction: 'push' },
    rows: [
      [0.96, 0.04, 19, 38],
      [0.2, 1.6, 17, 33],
      [0.06, 2.8, 15, 32],
      [0.021, 3.9, 14.1, 32],
      [0.008, 4.9, 13.8, 32],
    ],
  },
  {
    name: 'Table 3',
    variant: { interest: 'feedback', stop: 'counter', direction: 'pull' },
    rows: [
      [3.1e-2, 2.7, 9.97, 17.63],
      [5.8e-4, 4.5, 10.07, 15.39],
      [4.0e-6, 6.1, 10.08, 14.0],
    ],
  },
];

/** The paper's figures for this variant and k, if a table lists them. */
export function paperFigures(variant: RumorVariant, k: number): PaperRow | undefined {
  const table = DEMERS_TABLES.find((t) => t.variant.interest === variant.interest && t.variant.stop === variant.stop && t.variant.direction === variant.direction);
  const row = table?.rows[k - 1];
  if (!table || !row) return undefined;
  const [residue, traffic, tAve, tLast] = row;
  return { table: table.name, k, residue, traffic, tAve, tLast };
}
