import { packageTestConfig } from '../vitest.shared.js';

export default packageTestConfig('console', { testTimeoutMs: 60_000 });
