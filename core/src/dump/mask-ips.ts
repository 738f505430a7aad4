/**
 * IPv4 masking of dumps: {@link createIpMasker}.
 *
 * @module
 */

/** An IPv4 address in text: four decimal octets 0–255, not part of a longer dotted number. */
const IPV4 =
  /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d]|\.\d)/g;

/**
 * Replaces IPv4 addresses by `ip1`, `ip2`, ... in order of first appearance, consistently across
 * every call on the same masker (ElasticJob's dump does the same with `SensitiveInfoUtils`, so that
 * a dump can be shared without revealing the network).
 *
 * @returns a function masking one text; the same address always gets the same name.
 *
 * @example
 * ```ts
 * const mask = createIpMasker();
 * mask('/orders/servers/10.0.0.7 | ENABLED'); // '/orders/servers/ip1 | ENABLED'
 * mask('jobInstanceId: 10.0.0.7@-@4711');     // 'jobInstanceId: ip1@-@4711'
 * ```
 */
export function createIpMasker(): (text: string) => string {
  const names = new Map<string, string>();
  return (text) =>
    text.replace(IPV4, (ip) => {
      let name = names.get(ip);
      if (name === undefined) {
        name = `ip${names.size + 1}`;
        names.set(ip, name);
      }
      return name;
    });
}
