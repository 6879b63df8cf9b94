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

/** Severities during which the requester may approve their own `--emergency` plan. */
export const EMERGENCY_SEVERITIES: readonly string[] = ['P1', 'P2'];

/**
 * Group membership changes rarely but is asked for on every click: remember each answer briefly,
 * so a burst of clicks costs one `usergroups.users.list` and a removal takes effect within the TTL.
 * A failed lookup is not cached (and fails closed: the caller sees the error, nobody is let in).
 */
export function cachedGroups(resolve: GroupResolver, ttlMs = 60_000, now: () => number = Date.now): GroupResolver {
  const cache = new Map<string, { at: number; members: Promise<readonly string[]> }>();
  return (groupId) => {
    const hit = cache.get(groupId);
    if (hit && now() - hit.at < ttlMs) return hit.members;
    const members = resolve(groupId);
    cache.set(groupId, { at: now(), members });
    members.catch(() => cache.delete(groupId));
    return members;
  };
}

export interface ApprovalSubject {
  readonly procedure: string;
  readonly requester: string;
  readonly risk: Risk;
  readonly emergencyReason: string | null;
  /** Severity of the incident open right now, if any: emergencies need a P1 or P2. */
  readonly openIncidentSeverity?: string | null | undefined;
}

/**
 * Who may do what. Defaults (no policy file): procedures only in #ml-analyze, anyone there may
 * request, anyone but the requester may approve, one approval, 30-minute expiry. Everything not
 * explicitly allowed is refused.
 */
export class Policy {
  private readonly groups: GroupResolver;

  constructor(
    private readonly file: FileConfig,
    groups: GroupResolver = async () => [],
    groupTtlMs = 60_000,
  ) {
    this.groups = cachedGroups(groups, groupTtlMs);
  }

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

  /** Checked when `--emergency` is asked for, so a plan that could never be self-approved is not offered as one. */
  mayClaimEmergency(procedure: string, openIncidentSeverity: string | null | undefined): Verdict {
    if (!(this.file.policy.procedures[procedure]?.emergency ?? this.file.policy.emergency)) {
      return no(`the policy does not allow --emergency for \`${procedure}\`; ask someone else to approve a normal request`);
    }
    if (!openIncidentSeverity || !EMERGENCY_SEVERITIES.includes(openIncidentSeverity)) {
      return no('--emergency needs an open P1 or P2 incident (`/ml-rollback incident declare P1 …`); without one, ask someone else to approve');
    }
    return yes;
  }

  async mayApprove(userId: string, r: ApprovalSubject): Promise<Verdict & { emergency?: boolean }> {
    const rule = this.file.policy.procedures[r.procedure];
    const list = rule?.approvers ?? this.file.policy.approvers;
    if (list.length > 0 && !(await this.inList(userId, list))) return no(`you are not on the list of approvers for \`${r.procedure}\``);
    if (userId === r.requester) {
      if (r.emergencyReason) {
        const emergency = this.mayClaimEmergency(r.procedure, r.openIncidentSeverity);
        if (emergency.ok) return { ok: true, emergency: true };
        return no(`${emergency.reason.replace(/; .*$/, '')}, so you cannot approve your own plan; ask someone else to approve`);
      }
      if (r.risk === 'destructive' || !(rule?.allowSelfApproval ?? false)) {
        return no('you requested this plan, so someone else must approve it (four eyes)');
      }
    }
    return yes;
  }

  /** Force-releasing the target lock is an approver's call: the same people who may approve anything. */
  async mayForceUnlock(userId: string): Promise<Verdict> {
    const list = this.file.policy.approvers;
    if (list.length === 0 || (await this.inList(userId, list))) return yes;
    return no('only approvers may force-release the rollback lock');
  }

  private async inList(userId: string, list: readonly string[]): Promise<boolean> {
    if (list.includes(userId)) return true;
    for (const entry of list.filter((e) => /^S[A-Z0-9]{2,}$/.test(e))) {
      if ((await this.groups(entry)).includes(userId)) return true;
    }
    return false;
  }
}
