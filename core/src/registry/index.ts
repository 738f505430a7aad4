export * from './registry-center.js';
export * from './registry-configuration.js';
export * from './registry-error.js';
export * from './registry-path.js';
export * from './registry-path-index.js';
export * from './settled-within.js';
export * from './transaction-coalescer.js';
export * from './transaction-meter.js';
