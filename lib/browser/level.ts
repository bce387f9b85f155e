// The browser's stand-in for classic-level (package.json "browser" field):
// a store opened on a name keeps its data in IndexedDB through browser-level,
// so `persist(model, 'name')` works in a browser as on disk in Node.
export { BrowserLevel as ClassicLevel } from 'browser-level';
