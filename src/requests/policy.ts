import type { FileConfig } from '../config/index.js';
import type { Risk } from '../rollback/types.js';

export interface Actor {
  readonly userId: string;
  readonly channelId: string;
  readonly channelName?: string | undefined;
}

export type Verdict = { ok: true } | { ok: false; reason: string };
const yes: Verdict = { ok: true };
const no = (reason: string): Verdict => ({ ok: false, reason });

/** Resolves user-group members (Slack usergroups); the core only sees ids. */
export type GroupResolver = (groupId: string) => Promise<readonly string[]>;

/**
 * Who may do what. Defaults (no policy file): procedures only in #ml-analyze, anyone there may
 * request, anyone but the requester may approve, one approval, 30-minute expiry. Everything not
 * explicitly allowed is refused.
 */
export class Policy {
  constructor(
    private readonly file: FileConfig,
    private readonly groups: GroupResolver = async () => [],
  ) {}

  get expiryMinutes(): number {
    return this.file.policy.expiryMinutes;
  }

  channelAllowed(actor: Actor): Verdict {
    const allowed = this.file.channels;
    const name = actor.channelName?.replace(/^#/, '');
    if (allowed.includes(actor.channelId) || (name !== undefined && allowed.map((c) => c.replace(/^#/, '')).includes(name))) return yes;
    return no(`ml-rollback runs procedures only in ${allowed.map((c) => (c.startsWith('C') && c === c.toUpperCase() ? `<#${c}>` : `#${c.replace(/^#/, '')}`)).join(', ')}`);
  }

  approvalsNeeded(procedure: string): number {
    return this.file.policy.procedures[procedure]?.approvals ?? this.file.policy.approvals;
  }

  async mayRequest(userId: string, procedure: string): Promise<Verdict> {
    const list = this.file.policy.procedures[procedure]?.requesters ?? this.file.policy.requesters;
    if (list.length === 0 || (await this.inList(userId, list))) return yes;
    return no(`you are not on the list of people who may request \`${procedure}\``);
  }

  async mayApprove(userId: string, r: { procedure: string; requester: string; risk: Risk; emergencyReason: string | null }): Promise<Verdict & { emergency?: boolean }> {
    const rule = this.file.policy.procedures[r.procedure];
    const list = rule?.approvers ?? this.file.policy.approvers;
    if (list.length > 0 && !(await this.inList(userId, list))) return no(`you are not on the list of approvers for \`${r.procedure}\``);
    if (userId === r.requester) {
      const emergencyAllowed = rule?.emergency ?? this.file.policy.emergency;
      if (r.emergencyReason && emergencyAllowed) return { ok: true, emergency: true };
      if (r.risk === 'destructive' || !(rule?.allowSelfApproval ?? false)) {
        return no(
          r.emergencyReason
            ? 'the policy does not allow emergency self-approval here; ask someone else to approve'
            : 'you requested this plan, so someone else must approve it (four eyes)',
        );
      }
    }
    return yes;
  }

  private async inList(userId: string, list: readonly string[]): Promise<boolean> {
    if (list.includes(userId)) return true;
    for (const entry of list.filter((e) => e.startsWith('S'))) {
      if ((await this.groups(entry)).includes(userId)) return true;
    }
    return false;
  }
}
