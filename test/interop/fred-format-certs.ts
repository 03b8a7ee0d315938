// Certificates in the format FReD's own tooling makes (its tests/certificates/gen-certs.sh, run
// through openssl): an RSA CA, and per node or client an RSA key and a certificate with subject
// C=DE, ST=Berlin, L=Berlin, O=MCC, OU=FRED, CN=<name>, key usage, extended key usage serverAuth +
// clientAuth and SANs DNS localhost, IP 127.0.0.1 (plus any extra IPs). Nothing in them is
// Enoki's: nodes and clients look alike, exactly as in a FReD deployment. Written as
// <dir>/ca.pem, <name>.pem and <name>-key.pem, the layout Enoki reads.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Writes a FReD-format CA and one certificate per name (all with DNS localhost and IP 127.0.0.1). */
export function writeFredFormatCertificates(dir: string, names: string[]): void {
  fs.mkdirSync(dir, { recursive: true });
  openssl(['genrsa', '-out', 'ca-key.pem', '2048'], dir);
  openssl(['req', '-x509', '-new', '-nodes', '-key', 'ca-key.pem', '-sha512', '-days', '1825', '-subj', '/C=DE/O=MCC/CN=FReD test CA', '-out', 'ca.pem'], dir);
  for (const name of names) {
    const conf = `${name}.conf`;
    fs.writeFileSync(
      path.join(dir, conf),
      [
        '[ req ]',
        'default_bits = 2048',
        'prompt = no',
        'default_md = sha512',
        'req_extensions = v3_req',
        'distinguished_name = dn',
        '[ dn ]',
        'C = DE',
        'ST = Berlin',
        'L = Berlin',
        'O = MCC',
        'OU = FRED',
        `CN = ${name}`,
        '[ v3_req ]',
        'keyUsage = keyEncipherment, dataEncipherment, digitalSignature',
        'extendedKeyUsage = serverAuth, clientAuth',
        'subjectAltName = @alt_names',
        '[ alt_names ]',
        'DNS.1 = localhost',
        'IP.1 = 127.0.0.1',
        '',
      ].join('\n'),
    );
    openssl(['genrsa', '-out', `${name}-key.pem`, '2048'], dir);
    openssl(['req', '-new', '-key', `${name}-key.pem`, '-out', `${name}.csr`, '-config', conf], dir);
    openssl(
      ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1825', '-extfile', conf, '-extensions', 'v3_req'],
      dir,
    );
    fs.rmSync(path.join(dir, conf));
    fs.rmSync(path.join(dir, `${name}.csr`));
  }
}
