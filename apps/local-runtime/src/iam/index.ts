export * from './enforcer.js';
export * from './middleware.js';
export * from './platform.js';
export * from './policies.js';
export * from './requests.js';
