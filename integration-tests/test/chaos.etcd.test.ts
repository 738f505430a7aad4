import { chaosSuite } from './support/chaos-suite.js';

chaosSuite('etcd', 2);
