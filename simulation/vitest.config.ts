import { packageTestConfig } from '../vitest.shared.js';

export default packageTestConfig('simulation', { testTimeoutMs: 120_000 });
