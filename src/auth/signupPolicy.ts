// Who may sign up (SIGNUP_MODE, SIGNUP_EMAIL_DOMAINS, MAX_USERS), as one pure decision: refused
// with a sentence for the person, or accepted as approved or pending an admin's approval.
// Invitations (SIGNUP_MODE=invite) are not built on this branch yet: that mode refuses for now.
import type { ConsoleConfig } from '../config/console.js';
import type { Approval } from '../db/stores.js';

export type SignupDecision = { allowed: true; approval: Approval } | { allowed: false; why: string; message: string };

export function decideSignup(
  policy: Pick<ConsoleConfig, 'signupMode' | 'signupEmailDomains' | 'maxUsers'>,
  email: string,
  accounts: number,
): SignupDecision {
  if (policy.signupMode === 'closed') return { allowed: false, why: 'closed', message: 'New accounts are closed on this server.' };
  if (policy.signupMode === 'invite')
    return { allowed: false, why: 'invite-only', message: 'New accounts need an invitation on this server.' };
  if (policy.maxUsers > 0 && accounts >= policy.maxUsers)
    return { allowed: false, why: 'max-users', message: 'This server has as many accounts as it can take. Please ask its operator.' };
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  const listed = policy.signupEmailDomains.includes(domain);
  if (policy.signupMode === 'approval') return { allowed: true, approval: listed ? 'approved' : 'pending' };
  if (policy.signupEmailDomains.length > 0 && !listed)
    return { allowed: false, why: 'domain', message: `Accounts here are for addresses at ${policy.signupEmailDomains.join(', ')}.` };
  return { allowed: true, approval: 'approved' };
}
