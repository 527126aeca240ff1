/** The people's side: a signed approval's check, run as an activity so its verdict is recorded in history. */
import { verifySignature } from '../security/signing';

export const approvalActivities = {
  /** A signed approval's check, its verdict recorded in history (workflows/common.ts `verifyDecision`). */
  async verifyApproval(input: { publicKey: string; message: string; signature: string }) {
    return verifySignature(input);
  },
};
