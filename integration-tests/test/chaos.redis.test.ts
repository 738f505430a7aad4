import { chaosSuite } from './support/chaos-suite.js';

chaosSuite('redis', 3);
