export * from './faults.js';
export * from './formats.js';
export * from './harness.js';
export * from './hostile.js';
export * from './load.js';
export * from './report.js';
export * from './security.js';
export * from './lifecycle.js';
