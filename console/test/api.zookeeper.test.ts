import { apiBehaviourSuite } from './api.behaviour.js';

apiBehaviourSuite('zookeeper');
