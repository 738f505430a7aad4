import type { RegistryCenterConfiguration, RegistryCenterFactory } from '@elasticjob-ts/core/adapter';
import type { ZookeeperRegistryCenterOptions } from './options.js';
import { ZookeeperRegistryCenter } from './zookeeper-registry-center.js';

/**
 * The factory core's `createRegistryCenter({ type: 'zookeeper', ... })` loads: builds an unstarted
 * {@link ZookeeperRegistryCenter} from `{ type: 'zookeeper', serverLists, namespace,
 * sessionTimeoutMs?, connectionTimeoutMs?, baseSleepTimeMs?, maxSleepTimeMs?, maxRetries?, digest?,
 * logger? }` (ElasticJob's `ZookeeperConfiguration` with units in the names).
 *
 * @throws {RegistryConfigurationError} from `create` for a `type` other than `zookeeper`, an
 *   unknown option, or an invalid value, naming the field and the accepted values.
 */
export const registryCenterFactory: RegistryCenterFactory = {
  type: 'zookeeper',
  create(configuration: RegistryCenterConfiguration): ZookeeperRegistryCenter {
    return new ZookeeperRegistryCenter(configuration as ZookeeperRegistryCenterOptions);
  },
};
