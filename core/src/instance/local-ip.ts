/**
 * Finding this host's IP address for the default instance id and `servers/{ip}`.
 *
 * @module
 */

import { type NetworkInterfaceInfo, networkInterfaces as osNetworkInterfaces } from 'node:os';

/** Environment variable naming the preferred network interface (prefix or regular expression). */
export const PREFERRED_NETWORK_INTERFACE_ENV = 'ELASTICJOB_PREFERRED_NETWORK_INTERFACE';
/** Environment variable naming the preferred IP address (prefix or regular expression). */
export const PREFERRED_NETWORK_IP_ENV = 'ELASTICJOB_PREFERRED_NETWORK_IP';

/** The address used when no external address exists. */
export const LOOPBACK_IP = '127.0.0.1';

/** Options of {@link detectLocalIp}; all optional, for configuration and tests. */
export interface DetectLocalIpOptions {
  /**
   * Preferred interface name: an interface qualifies when its name starts with this text or fully
   * matches it as a regular expression. @defaultValue `process.env.ELASTICJOB_PREFERRED_NETWORK_INTERFACE`
   */
  readonly preferredNetworkInterface?: string;
  /**
   * Preferred address: an address qualifies when it starts with this text or fully matches it as a
   * regular expression (e.g. `10.0.` or `10\.0\.\d+\.\d+`). @defaultValue `process.env.ELASTICJOB_PREFERRED_NETWORK_IP`
   */
  readonly preferredNetworkIp?: string;
  /** Environment to read the two variables from. @defaultValue `process.env` */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Source of interfaces. @defaultValue `os.networkInterfaces` */
  readonly networkInterfaces?: () => NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/**
 * This host's IP address, as ElasticJob's `IpUtils.getIp()` picks it: the first non-internal IPv4
 * address of `os.networkInterfaces()` (in the order Node reports them), restricted to the preferred
 * interface and/or IP when set — by option or by the `ELASTICJOB_PREFERRED_NETWORK_INTERFACE` /
 * `ELASTICJOB_PREFERRED_NETWORK_IP` environment variables, ElasticJob's
 * `elasticjob.preferred.network.interface` / `.ip` system properties.
 *
 * Differences from ElasticJob: no reachability probe (ElasticJob's `isReachable(100 ms)` per address
 * made startup slow); when no IPv4 address exists, the first non-internal, non-link-local IPv6
 * address is used (ElasticJob is IPv4-only). A preference that matches no address is ignored. Falls
 * back to `127.0.0.1` when there is no external address at all.
 *
 * @param options - preferences and injectable sources.
 * @returns an IP address string.
 */
export function detectLocalIp(options: DetectLocalIpOptions = {}): string {
  const env = options.env ?? process.env;
  const preferredInterface = nonEmpty(
    options.preferredNetworkInterface ?? env[PREFERRED_NETWORK_INTERFACE_ENV],
  );
  const preferredIp = nonEmpty(options.preferredNetworkIp ?? env[PREFERRED_NETWORK_IP_ENV]);
  const interfaces = (options.networkInterfaces ?? osNetworkInterfaces)();

  const candidates: { name: string; address: NetworkInterfaceInfo }[] = [];
  for (const [name, addresses] of Object.entries(interfaces)) {
    for (const address of addresses ?? []) {
      if (address.internal || isUnspecified(address.address)) continue;
      if (address.family === 'IPv6' && isLinkLocalIpv6(address.address)) continue;
      candidates.push({ name, address });
    }
  }
  const matchingInterface =
    preferredInterface === undefined
      ? candidates
      : candidates.filter((c) => matches(c.name, preferredInterface));
  const pool = matchingInterface.length > 0 ? matchingInterface : candidates;
  const matchingIp =
    preferredIp === undefined ? pool : pool.filter((c) => matches(c.address.address, preferredIp));
  const chosen = matchingIp.length > 0 ? matchingIp : pool;
  const ipv4 = chosen.find((c) => c.address.family === 'IPv4');
  return (ipv4 ?? chosen[0])?.address.address ?? LOOPBACK_IP;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function matches(text: string, pattern: string): boolean {
  if (text.startsWith(pattern)) return true;
  try {
    return new RegExp(`^(?:${pattern})$`).test(text);
  } catch {
    return false;
  }
}

function isUnspecified(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

function isLinkLocalIpv6(address: string): boolean {
  return /^fe[89ab]/i.test(address);
}
