export * from './sandbox.js';
export type { SandboxSpec } from './protocol.js';
