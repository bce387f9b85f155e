import type { AbstractDatabaseOptions, AbstractLevel } from 'abstract-level';
import { errors } from './errors.js';

type Level = AbstractLevel<any, any, any>;
/** Loads the classic-level module; injectable so a test can make it fail. */
export type LevelLoader = () => Promise<{ ClassicLevel: new (location: string, options?: AbstractDatabaseOptions<any, any>) => Level }>;

const loadClassicLevel: LevelLoader = () => import('classic-level');

/**
 * A classic-level (LevelDB) database at `path`, not yet opened. The module,
 * and with it the native LevelDB addon, is loaded here, on first use, so a
 * program that never opens a store on a path never loads either. A module
 * that fails to load (not installed, no build for this platform) is a coded
 * error that names the cause.
 */
export async function pathDb(path: string, options: AbstractDatabaseOptions<any, any> = {}, load: LevelLoader = loadClassicLevel): Promise<Level> {
  let ClassicLevel;
  try {
    ({ ClassicLevel } = await load());
  } catch (err) {
    throw errors.invalidArgument(`a store on a path needs classic-level (LevelDB), which failed to load: ${(err as Error)?.message ?? err}`, err);
  }
  return new ClassicLevel(path, options);
}
