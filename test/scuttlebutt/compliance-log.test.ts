import { Log } from '../../lib/index.js';
import { compliance } from '../helpers/compliance.js';

compliance({
  name: 'log',
  create: (id, name) => new Log({ id, name }),
  mutate: (log, i) => void log.append({ i, by: log.id }),
  state: (log) => log.toJSON(),
});
