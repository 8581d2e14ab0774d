// The shared Lambda build: see tsup.lambda.ts at the repository root.
export { default } from '../../tsup.lambda.js';
