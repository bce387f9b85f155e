import { compliance } from '../helpers/compliance.js';
import { merkle } from '../helpers/compliance-subjects.js';

compliance({ ...merkle, name: 'merkle' });
