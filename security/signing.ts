/** Signing an approval (`drover approve --key`) and verifying it (the workflow's recorded activity). */
import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { approvalMessage } from './approval-message';
import type { SignedFields } from './approval-message';

/** The signature of `fields` with an Ed25519 private key (PEM), base64. Throws a plain message on a bad key. */
export function signApproval(privateKeyPem: string, fields: SignedFields): string {
  let key;
  try {
    key = createPrivateKey(privateKeyPem);
  } catch {
    throw new Error('the key file is not a PEM private key (make one with `openssl genpkey -algorithm ed25519`)');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`the key is ${key.asymmetricKeyType}, not Ed25519`);
  return sign(null, Buffer.from(approvalMessage(fields)), key).toString('base64');
}

/** Whether `signature` (base64) is `publicKey`'s (PEM) over `message`; the reason when it is not. */
export function verifySignature(input: { publicKey: string; message: string; signature: string }): {
  valid: boolean;
  reason?: string;
} {
  let key;
  try {
    key = createPublicKey(input.publicKey);
  } catch {
    return { valid: false, reason: 'the declared public key is not a PEM key' };
  }
  const sig = Buffer.from(input.signature, 'base64');
  if (sig.length !== 64)
    return { valid: false, reason: 'the signature is not an Ed25519 signature (64 bytes, base64)' };
  try {
    return verify(null, Buffer.from(input.message), key, sig)
      ? { valid: true }
      : { valid: false, reason: "the signature does not verify with the approver's declared key" };
  } catch (e) {
    return { valid: false, reason: `the signature cannot be checked: ${(e as Error).message}` };
  }
}
