import { describe, expect, it } from 'vitest';
import { parseFileConfig } from '../../src/config/file.js';
import { Policy } from '../../src/requests/policy.js';

const defaults = () => new Policy(parseFileConfig({}));
const destructive = { procedure: 'data clear-embeddings', requester: 'U0REQ', risk: 'destructive' as const, emergencyReason: null };

describe('policy defaults (no policy file)', () => {
  it('allows procedures in the channel named ml-analyze, by name or with a leading #', () => {
    const p = defaults();
    expect(p.channelAllowed({ userId: 'U1', channelId: 'C0ANY', channelName: 'ml-analyze' })).toEqual({ ok: true });
    expect(p.channelAllowed({ userId: 'U1', channelId: 'C0ANY', channelName: '#ml-analyze' })).toEqual({ ok: true });
  });

  it('refuses other channels, and a channel id alone when only the name is configured', () => {
    const p = defaults();
    const other = p.channelAllowed({ userId: 'U1', channelId: 'C0GEN', channelName: 'general' });
    expect(other).toEqual({ ok: false, reason: 'ml-rollback runs procedures only in #ml-analyze' });
    expect(p.channelAllowed({ userId: 'U1', channelId: 'C0GEN' }).ok).toBe(false);
    expect(p.channelAllowed({ userId: 'U1', channelId: 'C0GEN', channelName: 'ml-analyze-test' }).ok).toBe(false);
  });

  it('allows a channel configured by id, and names it as a link when refusing', () => {
    const p = new Policy(parseFileConfig({ channels: ['C0MLANLZ'] }));
    expect(p.channelAllowed({ userId: 'U1', channelId: 'C0MLANLZ', channelName: 'whatever' }).ok).toBe(true);
    expect(p.channelAllowed({ userId: 'U1', channelId: 'C0OTHER', channelName: 'ml-analyze' })).toEqual({ ok: false, reason: 'ml-rollback runs procedures only in <#C0MLANLZ>' });
  });

  it('lets anyone request, needs one approval, expires after 30 minutes', async () => {
    const p = defaults();
    expect(await p.mayRequest('U0ANYONE', 'full')).toEqual({ ok: true });
    expect(p.approvalsNeeded('full')).toBe(1);
    expect(p.expiryMinutes).toBe(30);
  });

  it('refuses self-approval of a destructive plan and lets anyone else approve', async () => {
    const p = defaults();
    const self = await p.mayApprove('U0REQ', destructive);
    expect(self.ok).toBe(false);
    expect(self).toMatchObject({ reason: expect.stringContaining('someone else must approve') });
    expect(await p.mayApprove('U0OTHER', destructive)).toEqual({ ok: true });
  });

  it('refuses self-approval of a reversible plan too, unless the procedure allows it', async () => {
    const reversible = { ...destructive, procedure: 'container', risk: 'reversible' as const };
    expect((await defaults().mayApprove('U0REQ', reversible)).ok).toBe(false);
    const relaxed = new Policy(parseFileConfig({ policy: { procedures: { container: { allowSelfApproval: true } } } }));
    expect(await relaxed.mayApprove('U0REQ', reversible)).toEqual({ ok: true });
    // allowSelfApproval never covers destructive plans.
    expect((await relaxed.mayApprove('U0REQ', { ...reversible, risk: 'destructive' })).ok).toBe(false);
  });

  it('refuses emergency self-approval unless the policy enables it, and flags it when allowed', async () => {
    const emergency = { ...destructive, emergencyReason: 'site down', openIncidentSeverity: 'P1' };
    const refused = await defaults().mayApprove('U0REQ', emergency);
    expect(refused).toMatchObject({ ok: false, reason: expect.stringContaining('ask someone else to approve') });
    const allowed = new Policy(parseFileConfig({ policy: { emergency: true } }));
    expect(await allowed.mayApprove('U0REQ', emergency)).toEqual({ ok: true, emergency: true });
    // Someone else approving an emergency plan is an ordinary approval.
    expect(await allowed.mayApprove('U0OTHER', emergency)).toEqual({ ok: true });
  });

  it('approver lists admit members of a user group', async () => {
    const p = new Policy(parseFileConfig({ policy: { approvers: ['S0ONCALL'] } }), async (id) => (id === 'S0ONCALL' ? ['U0ONCALL'] : []));
    expect(await p.mayApprove('U0ONCALL', destructive)).toEqual({ ok: true });
    expect((await p.mayApprove('U0OTHER', destructive)).ok).toBe(false);
  });
});
