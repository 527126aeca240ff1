/**
 * The failure converter of an encrypting Drover (security/codec.ts): failure messages and stack traces go
 * into the encoded attributes, which the payload codec encrypts, so a step's error text (a command's
 * stderr, a provider's message) is not readable in history. Loaded by path: workflows run in a sandbox.
 */
import { DefaultFailureConverter } from '@temporalio/common';

export const failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
