import type { Writable } from 'node:stream';
import { templateFields, incidentFooter } from '../incidents/format.js';
import type { IncidentNotifier, IncidentView, TimelineNote } from '../incidents/notifier.js';
import { SUGGESTED, type Incident } from '../incidents/types.js';
import type { MessageRef } from '../requests/notifier.js';

/** Incidents in the terminal: the template when declared and on each change, timeline lines as `[INC-N] …`. */
export class ConsoleIncidentNotifier implements IncidentNotifier {
  private seq = 0;

  constructor(private readonly out: Writable) {}

  private say(text: string): void {
    this.out.write(`${text}\n`);
  }

  private template(view: IncidentView, heading: string): void {
    const i = view.incident;
    const lines = templateFields(view).flatMap(([label, value]) => {
      const [first, ...more] = value.split('\n');
      return [`   ${`${label}:`.padEnd(10)}${first}`, ...more.map((m) => `   ${''.padEnd(10)}${m}`)];
    });
    const hints = i.status === 'resolved'
      ? []
      : [`   → incident update ${i.id} --status identified --eta … --actions …  |  incident resolve ${i.id}  |  ${SUGGESTED.map((s) => s.command).join('  |  ')}`];
    this.say(['', `══ ${heading} ══`, ...lines, `   (${incidentFooter(view)})`, ...hints].join('\n'));
  }

  async announce(view: IncidentView): Promise<MessageRef | undefined> {
    this.template(view, `${view.incident.id} declared`);
    return { channelId: 'console', ts: `${Date.now()}.${++this.seq}` };
  }

  async refresh(view: IncidentView): Promise<void> {
    this.template(view, `${view.incident.id} now`);
  }

  async timeline(incident: Incident, note: TimelineNote): Promise<void> {
    const text = note.text.replace(/\*/g, '').replace(/<@([A-Z0-9]+)>/g, '$1');
    this.say(`[${incident.id}] ${text}`);
    if (note.offer && incident.status !== 'resolved') this.say(`[${incident.id}]    → plan it: ${SUGGESTED.map((s) => s.command).join('  |  ')}`);
  }
}
