/**
 * Java arithmetic the sharding strategies depend on, reproduced bit for bit.
 *
 * @module
 */

/**
 * Java's `String.hashCode()`: `h = 31 * h + c` over the UTF-16 code units of `s`, with 32-bit
 * two's-complement overflow; `''` hashes to 0. ElasticJob's `ODEVITY`, `ROUND_ROBIN` and
 * `SINGLE_SHARDING_BALANCE` strategies use it, so assignments match a Java cluster only if this
 * matches exactly.
 *
 * @param s - any string (astral characters count as two code units, as in Java).
 * @returns a signed 32-bit integer.
 *
 * @example
 * ```ts
 * javaStringHashCode('myJob'); // 104343153
 * javaStringHashCode('test_job'); // -1146456432
 * ```
 */
export function javaStringHashCode(s: string): number {
  let hash = 0;
  for (let i = 0; i < s.length; i++) {
    hash = (Math.imul(31, hash) + s.charCodeAt(i)) | 0;
  }
  return hash;
}

/**
 * Java's `int` conversion of a `long` (`((Long) value).intValue()`): the low 32 bits, signed.
 *
 * @param value - an integer-valued number (fractions are truncated first).
 * @returns a signed 32-bit integer.
 */
export function javaLongToInt(value: number): number {
  return Number(BigInt.asIntN(32, BigInt(Math.trunc(value))));
}
