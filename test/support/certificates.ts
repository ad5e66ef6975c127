/**
 * Certificates for the TLS tests, made in-process (Node's WebCrypto and @peculiar/x509: no `openssl` command needed):
 * a CA, a server certificate for 127.0.0.1/localhost, a good client certificate, one from a CA the server does not
 * trust, and one from the right CA that expired in 2020. Written as PEM files, since Temporal's settings take paths.
 *
 * ```ts
 * const certs = await makeCertificates(dir);
 * // TEMPORAL_TLS_SERVER_CA_CERT_PATH=certs.ca TEMPORAL_TLS_CLIENT_CERT_PATH=certs.client.cert ...
 * ```
 */
import { webcrypto } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export interface Certificates {
  dir: string;
  /** The CA that signed the server's certificate and the good client certificates. */
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
  /** A client certificate from another CA, which the server does not trust. */
  strangerClient: { cert: string; key: string };
  /** The other CA: a client trusting only it does not trust the server. */
  strangerCa: string;
  /** A client certificate from the right CA that expired in 2020. */
  expiredClient: { cert: string; key: string };
}

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 24 * 3600 * 1000;

interface Issued {
  cert: x509.X509Certificate;
  keys: CryptoKeyPair;
}

type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

async function keyPair(): Promise<CryptoKeyPair> {
  return await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
}

async function authority(name: string): Promise<Issued> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 2 * DAY),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, keys };
}

async function leaf(
  issuer: Issued,
  serial: string,
  name: string,
  usages: string[],
  extra: x509.Extension[] = [],
  validity: { notBefore: Date; notAfter: Date } = {
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 2 * DAY),
  }
): Promise<Issued> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial,
    subject: `CN=${name}`,
    issuer: issuer.cert.subject,
    ...validity,
    publicKey: keys.publicKey,
    signingKey: issuer.keys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(usages),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.cert),
      ...extra,
    ],
  });
  return { cert, keys };
}

async function writePair(dir: string, name: string, issued: Issued): Promise<{ cert: string; key: string }> {
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', issued.keys.privateKey);
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  writeFileSync(cert, issued.cert.toString('pem') + '\n');
  writeFileSync(key, x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n', { mode: 0o600 });
  return { cert, key };
}

/** A CA, a server certificate for 127.0.0.1/localhost, and good, foreign and expired client certificates. */
export async function makeCertificates(dir: string): Promise<Certificates> {
  mkdirSync(dir, { recursive: true });
  const ca = await authority('Jipper test CA');
  const stranger = await authority('Someone else');
  const server = await leaf(
    ca,
    '02',
    'localhost',
    [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth],
    [
      new x509.SubjectAlternativeNameExtension([
        { type: 'ip', value: '127.0.0.1' },
        { type: 'dns', value: 'localhost' },
      ]),
    ]
  );
  const client = await leaf(ca, '03', 'jipper-worker', [x509.ExtendedKeyUsage.clientAuth]);
  const strangerClient = await leaf(stranger, '04', 'jipper-worker', [x509.ExtendedKeyUsage.clientAuth]);
  const expiredClient = await leaf(ca, '05', 'jipper-worker', [x509.ExtendedKeyUsage.clientAuth], [], {
    notBefore: new Date('2020-01-01T00:00:00Z'),
    notAfter: new Date('2020-01-02T00:00:00Z'),
  });
  return {
    dir,
    ca: (await writePair(dir, 'ca', ca)).cert,
    strangerCa: (await writePair(dir, 'stranger-ca', stranger)).cert,
    server: await writePair(dir, 'server', server),
    client: await writePair(dir, 'client', client),
    strangerClient: await writePair(dir, 'stranger-client', strangerClient),
    expiredClient: await writePair(dir, 'expired-client', expiredClient),
  };
}
