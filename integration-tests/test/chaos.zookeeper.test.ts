import { chaosSuite } from './support/chaos-suite.js';

chaosSuite('zookeeper', 1);
