import { aggregation } from './aggregation.js';
import { broadcast } from './broadcast.js';
import { dynamo } from './dynamo.js';
import { epidemic } from './epidemic.js';
import { membership } from './membership.js';
import { primaryBackup } from './primary-backup.js';
import type { Scenario } from './scenario.js';
import { sweep } from './sweep.js';

/** Every scenario `tendril sim` knows, by name. */
export const SCENARIOS: Record<string, Scenario> = {
  'primary-backup': primaryBackup,
  dynamo,
  epidemic,
  aggregation,
  broadcast,
  sweep,
  membership,
};
