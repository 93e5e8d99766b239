export * from './array';
export * from './resources';
export * from './shell';
export * from './script';
export * from './plan';
export * from './cluster';
