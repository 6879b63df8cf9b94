import type { WebClient } from '@slack/web-api';
import type { IncidentNotifier, IncidentView, TimelineNote } from '../incidents/notifier.js';
import type { Incident } from '../incidents/types.js';
import type { Logger } from '../log.js';
import type { MessageRef } from '../requests/notifier.js';
import { announcementBlocks, announcementText, timelineBlocks } from './incidentRender.js';
import { deliver } from './slackClient.js';

/**
 * Incidents in Slack: the announcement in the channel, edited in place on every change; each
 * change also posted in its thread. Every call waits out 429s (`deliver`): these must arrive.
 */
export class SlackIncidentNotifier implements IncidentNotifier {
  constructor(
    private readonly client: WebClient,
    private readonly log: Logger,
  ) {}

  async announce(view: IncidentView): Promise<MessageRef | undefined> {
    const res = await deliver(
      () => this.client.chat.postMessage({ channel: view.incident.channelId, text: announcementText(view), blocks: announcementBlocks(view), unfurl_links: false }),
      this.log,
      'announce incident',
      'chat.postMessage',
    );
    return res?.ts ? { channelId: res.channel ?? view.incident.channelId, ts: res.ts } : undefined;
  }

  async refresh(view: IncidentView): Promise<void> {
    const { incident } = view;
    if (!incident.messageTs) return;
    await deliver(
      () => this.client.chat.update({ channel: incident.channelId, ts: incident.messageTs!, text: announcementText(view), blocks: announcementBlocks(view) }),
      this.log,
      'update incident',
      'chat.update',
    );
  }

  async timeline(incident: Incident, note: TimelineNote): Promise<void> {
    if (!incident.messageTs) return;
    const blocks = timelineBlocks(incident, note);
    await deliver(
      () =>
        blocks
          ? this.client.chat.postMessage({ channel: incident.channelId, thread_ts: incident.messageTs!, text: note.text, blocks, reply_broadcast: note.broadcast === true })
          : this.client.chat.postMessage({ channel: incident.channelId, thread_ts: incident.messageTs!, text: note.text, reply_broadcast: note.broadcast === true }),
      this.log,
      'incident timeline',
      'chat.postMessage',
    );
  }
}
