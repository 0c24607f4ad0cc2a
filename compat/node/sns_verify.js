// Verifies Amazon SNS notifications the way a receiver that trusts no amzpay code would:
// rebuilds the SignatureVersion 1 string to sign from the envelope, fetches the PEM
// certificate from SigningCertURL, and checks the SHA1withRSA signature with OpenSSL
// (Node.js crypto). Reads a JSON array of raw POST bodies on stdin; prints a JSON array of
// {"messageId", "verified", "subject"} (the certificate's subject), one per body.
'use strict';

const crypto = require('crypto');

const SIGNED_KEYS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'];

function stringToSign(envelope) {
  let text = '';
  for (const key of SIGNED_KEYS) {
    if (key === 'Subject' && envelope.Subject === undefined) continue;
    text += `${key}\n${envelope[key]}\n`;
  }
  return text;
}

async function main() {
  let input = '';
  for await (const chunk of process.stdin) input += chunk;
  const bodies = JSON.parse(input);
  const certificates = new Map();
  const results = [];
  for (const body of bodies) {
    const envelope = JSON.parse(body);
    if (envelope.SignatureVersion !== '1') throw new Error(`SignatureVersion ${envelope.SignatureVersion}`);
    let pem = certificates.get(envelope.SigningCertURL);
    if (!pem) {
      const response = await fetch(envelope.SigningCertURL);
      if (!response.ok) throw new Error(`${envelope.SigningCertURL}: ${response.status}`);
      pem = await response.text();
      certificates.set(envelope.SigningCertURL, pem);
    }
    const certificate = new crypto.X509Certificate(pem);
    const verifier = crypto.createVerify('RSA-SHA1');
    verifier.update(stringToSign(envelope), 'utf8');
    const verified = verifier.verify(certificate.publicKey, envelope.Signature, 'base64');
    results.push({ messageId: envelope.MessageId, verified, subject: certificate.subject });
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
