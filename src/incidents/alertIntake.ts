import type { FileConfig } from '../config/file.js';
import type { Logger } from '../log.js';
import { alertIdentity, alertTitle, groupHash, groupSeverity, type AlertmanagerPayload } from './alerts.js';
import type { IncidentService } from './service.js';
import type { Incident } from './types.js';

export type AlertOutcome =
  | { kind: 'declared'; incidentId: string }
  | { kind: 'attached'; incidentId: string }
  | { kind: 'repeat'; incidentId: string }
  | { kind: 'resolved'; incidentId: string }
  | { kind: 'ignored'; reason: string };

type Decision = { outcome: AlertOutcome; incident?: Incident; note?: string; created?: boolean };

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const bullets = (lines: string[]) => lines.slice(0, 10).map((l) => `• ${escape(l)}`).join('\n') + (lines.length > 10 ? `\n… and ${lines.length - 10} more` : '');

/**
 * Alertmanager notifications → incidents. A group (by groupKey) maps to one incident; the group's
 * row is locked for the whole decision, so repeats and an HA pair's concurrent duplicates find the
 * incident the first delivery made instead of making another.
 */
export class AlertIntake {
  constructor(
    private readonly incidents: IncidentService,
    private readonly config: FileConfig,
    private readonly log: Logger,
  ) {}

  async receive(p: AlertmanagerPayload): Promise<AlertOutcome> {
    if (p.version !== '4') this.log.warn({ version: p.version }, 'Alertmanager payload version is not 4; reading it as version 4');
    const { istore } = this.incidents;
    const hash = groupHash(p.groupKey);
    const d = await istore.tx<Decision>(async (c) => {
      const g = await istore.lockAlertGroup(c, hash, p.groupKey);
      const open = g.incidentId !== null && g.incidentStatus !== null && g.incidentStatus !== 'resolved';
      const firing = p.alerts.filter((a) => a.status === 'firing');
      if (p.status === 'resolved' || (p.alerts.length > 0 && firing.length === 0)) {
        if (!g.incidentId || g.status === 'resolved') return { outcome: { kind: 'ignored', reason: 'nothing firing in this group' } };
        await istore.saveAlertGroup(c, { ...g, status: 'resolved', fingerprints: [] });
        const inc = await istore.get(g.incidentId, c);
        const titles = p.alerts.map(alertTitle);
        return { outcome: { kind: 'resolved', incidentId: g.incidentId }, ...(inc ? { incident: inc } : {}), note: `🟢 *Alertmanager: resolved*\n${bullets(titles.length ? titles : [p.groupKey])}\nThe incident stays open until someone resolves it.` };
      }
      const fps = [...new Set(firing.map(alertIdentity))].sort();
      const titles = firing.map(alertTitle);
      const severity = groupSeverity(firing.length ? firing : p.alerts, this.config.alerts);
      if (open && g.status === 'firing') {
        const fresh = fps.filter((f) => !g.fingerprints.includes(f));
        await istore.saveAlertGroup(c, { ...g, fingerprints: [...new Set([...g.fingerprints, ...fps])].sort() });
        if (!fresh.length) return { outcome: { kind: 'repeat', incidentId: g.incidentId! } };
        const inc = await istore.get(g.incidentId!, c);
        const more = firing.filter((a) => fresh.includes(alertIdentity(a))).map(alertTitle);
        return { outcome: { kind: 'attached', incidentId: g.incidentId! }, ...(inc ? { incident: inc } : {}), note: `🔔 *Alertmanager: also firing* (${severity})\n${bullets(more)}` };
      }
      if (open) {
        await istore.saveAlertGroup(c, { ...g, status: 'firing', fingerprints: fps });
        const inc = await istore.get(g.incidentId!, c);
        return { outcome: { kind: 'attached', incidentId: g.incidentId! }, ...(inc ? { incident: inc } : {}), note: `🔔 *Alertmanager: firing again* (${severity})\n${bullets(titles)}` };
      }
      // A new episode for this group: join the incident already open, or declare one.
      await istore.lockOpening(c);
      const current = await istore.open(c);
      if (current) {
        await istore.saveAlertGroup(c, { groupHash: hash, incidentId: current.id, status: 'firing', fingerprints: fps });
        const higher = severity < current.severity ? ` — more severe than ${current.id}'s ${current.severity}; update its severity if it should be` : '';
        return { outcome: { kind: 'attached', incidentId: current.id }, incident: current, note: `🔔 *Alertmanager: firing* (${severity})${higher}\n${bullets(titles)}` };
      }
      const summary = p.commonAnnotations.summary ?? firing[0]?.annotations.summary;
      const names = [...new Set(firing.map((a) => a.labels.alertname ?? 'alert'))].join(', ');
      const inc = await istore.create(c, {
        severity,
        impact: `Alertmanager: ${names}${summary ? ` — ${summary}` : ''}`.slice(0, 1000),
        source: 'alert',
        declaredBy: 'alertmanager',
        channelId: this.incidents.automatedChannel,
        now: this.incidents.now(),
      });
      await istore.event({ incidentId: inc.id, actor: 'alertmanager', kind: 'declared', text: `declared ${severity} from Alertmanager group ${p.groupKey}`, detail: { groupHash: hash, alerts: titles.slice(0, 20) } }, c);
      await istore.saveAlertGroup(c, { groupHash: hash, incidentId: inc.id, status: 'firing', fingerprints: fps });
      return { outcome: { kind: 'declared', incidentId: inc.id }, incident: inc, created: true, note: `🔔 *Alertmanager: firing* (${severity})\n${bullets(titles)}${p.externalURL ? `\n<${p.externalURL}|Alertmanager>` : ''}` };
    });
    if (d.created && d.incident) await this.incidents.announced(d.incident);
    if (d.incident && d.note) await this.incidents.note(d.incident, 'alertmanager', d.outcome.kind === 'resolved' ? 'alert-resolved' : 'alert-firing', { text: d.note });
    this.log.info({ groupHash: hash, outcome: d.outcome }, 'alertmanager notification');
    return d.outcome;
  }
}
