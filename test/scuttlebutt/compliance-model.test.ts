import { Model } from '../../lib/index.js';
import { compliance } from '../helpers/compliance.js';

compliance({
  name: 'model',
  create: (id, name) => new Model({ id, name }),
  mutate: (model, i) => {
    if (i % 7 === 6) model.delete(`k${i - 1}`);
    else model.set(`k${i}`, { i, by: model.id });
  },
  state: (model) => model.toJSON(),
});
