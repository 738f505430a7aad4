import { packageTestConfig } from '../vitest.shared.js';

export default packageTestConfig('tracing', { testTimeoutMs: 60_000 });
