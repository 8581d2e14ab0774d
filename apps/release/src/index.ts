export * from './package.js';
export * from './zip.js';
