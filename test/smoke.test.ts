import test from 'tape';
import { ReplicationError, errors } from '../lib/index.js';

test('errors carry a stable code', (t) => {
  const err = errors.decode('bad');
  t.ok(err instanceof ReplicationError);
  t.ok(err instanceof Error);
  t.equal(err.code, 'ERR_DECODE');
  t.end();
});
