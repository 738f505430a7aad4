import type { RegistryCenterConfiguration, RegistryCenterFactory } from '@elasticjob-ts/core/adapter';
import { MemoryRegistryCenter } from './memory-registry-center.js';
import { type MemoryRegistryCenterOptions, resolveMemoryRegistryOptions } from './memory-registry-options.js';

/**
 * The factory core's `createRegistryCenter({ type: 'memory', ... })` loads: builds an unstarted
 * {@link MemoryRegistryCenter} from `{ type: 'memory', namespace?, server?, sessionTimeoutMs?,
 * digest?, clock?, logger? }` (see {@link MemoryRegistryCenterOptions}).
 *
 * @throws {RegistryConfigurationError} from `create` for a `type` other than `memory`, an unknown
 *   option, or an invalid value, naming the field and the accepted values.
 */
export const registryCenterFactory: RegistryCenterFactory = {
  type: 'memory',
  create(configuration: RegistryCenterConfiguration): MemoryRegistryCenter {
    resolveMemoryRegistryOptions(configuration);
    const { type: _type, ...options } = configuration as { type: string } & MemoryRegistryCenterOptions;
    return new MemoryRegistryCenter(options);
  },
};
