/**
 * The part of image-core that needs no image library: errors, formats, the recipe and the
 * limits. Code that only validates configuration or reads results (e.g. the notify Lambda)
 * imports `@imgflow/image-core/contracts` and does not load sharp.
 */
export * from './errors.js';
export * from './formats.js';
export * from './limits.js';
export * from './recipe.js';
