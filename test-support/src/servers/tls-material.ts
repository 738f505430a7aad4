/**
 * Throwaway TLS material for test servers, made at test time with the `openssl` command-line tool
 * (Debian package `openssl`): a self-signed CA and a server certificate it signs for the loopback
 * addresses. Keys are EC P-256 (fast to generate), certificates are valid for one day, nothing is
 * kept after the test's temp directory is removed.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OPENSSL_REQUIREMENTS, requireServerBinaries } from './binaries.js';

/** A CA made by {@link createTestCertificateAuthority}. */
export interface TestCertificateAuthority {
  /** The CA certificate (PEM), what a client passes as its trusted CA. */
  readonly certPem: string;
  /** Path of the CA certificate file. */
  readonly certFile: string;
  /** Path of the CA's private key file. */
  readonly keyFile: string;
}

/** A server certificate made by {@link createTestServerCertificate}. */
export interface TestServerCertificate {
  /** Path of the server certificate file (PEM). */
  readonly certFile: string;
  /** Path of the server's private key file (PEM, unencrypted). */
  readonly keyFile: string;
  /** The CA that signed it. */
  readonly ca: TestCertificateAuthority;
}

/** Bound of one `openssl` run, in ms (key generation included). */
const OPENSSL_TIMEOUT_MS = 30_000;

function runOpenssl(openssl: string, args: readonly string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(openssl, args, { cwd, timeout: OPENSSL_TIMEOUT_MS }, (error, _stdout, stderr) => {
      if (error === null) resolve();
      else reject(new Error(`openssl ${args[0]} failed: ${error.message}\n${stderr}`, { cause: error }));
    });
  });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/**
 * Makes a self-signed CA in `dir` (`<name>.crt`, `<name>.key`).
 *
 * @param dir - an existing directory, e.g. the test server's temp directory.
 * @param name - file name stem and part of the subject, so that two CAs in one directory differ.
 * @returns the CA.
 * @throws {MissingServerBinaryError} when `openssl` is not installed (one line: install `openssl`).
 * @throws {Error} with openssl's output when it fails.
 */
export async function createTestCertificateAuthority(
  dir: string,
  name = 'ca',
): Promise<TestCertificateAuthority> {
  const [openssl] = requireServerBinaries('TLS test material', OPENSSL_REQUIREMENTS) as [string];
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await runOpenssl(
    openssl,
    [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-days',
      '1',
      '-subj',
      `/CN=ElasticJob-TS throwaway test CA ${name}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  return { certPem: await readFile(certFile, 'utf8'), certFile, keyFile };
}

/**
 * Makes a server certificate signed by `ca`, for `127.0.0.1` and `localhost` (subject alternative
 * names, so hostname verification passes for both).
 *
 * @param dir - an existing directory.
 * @param ca - the signing CA.
 * @param name - file name stem (`<name>.crt`, `<name>.key`).
 * @returns the certificate, its key and its CA.
 * @throws {MissingServerBinaryError} when `openssl` is not installed.
 * @throws {Error} with openssl's output when it fails.
 */
export async function createTestServerCertificate(
  dir: string,
  ca: TestCertificateAuthority,
  name = 'server',
): Promise<TestServerCertificate> {
  const [openssl] = requireServerBinaries('TLS test material', OPENSSL_REQUIREMENTS) as [string];
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  const requestFile = join(dir, `${name}.csr`);
  const extensionsFile = join(dir, `${name}.ext`);
  await runOpenssl(
    openssl,
    ['req', '-new', ...EC_KEY, '-keyout', keyFile, '-out', requestFile, '-subj', '/CN=127.0.0.1'],
    dir,
  );
  await writeFile(
    extensionsFile,
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
    'utf8',
  );
  await runOpenssl(
    openssl,
    [
      'x509',
      '-req',
      '-in',
      requestFile,
      '-CA',
      ca.certFile,
      '-CAkey',
      ca.keyFile,
      '-CAcreateserial',
      '-out',
      certFile,
      '-days',
      '1',
      '-extfile',
      extensionsFile,
    ],
    dir,
  );
  return { certFile, keyFile, ca };
}
