import './polyfill.js';

export * from './asl.js';
export * from './backfill-asl.js';
export * from './emulators.js';
export * from './faults.js';
export * from './iam/index.js';
export * from './runner.js';
export * from './stack.js';
export * from './emulator-process.js';
export * from './sweeper.js';
