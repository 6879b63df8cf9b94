import type { Button } from '@slack/types';

/** Small Block Kit builders shared by every renderer. */

/** mrkdwn treats &, < and > as control characters; user text and command output must not. */
export const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger', confirm?: string): Button {
  return {
    type: 'button',
    text: { type: 'plain_text', text },
    action_id: actionId,
    value,
    ...(style ? { style } : {}),
    ...(confirm
      ? {
          confirm: {
            title: { type: 'plain_text' as const, text: 'Are you sure?' },
            // Slack refuses a confirm dialog over 300 characters (a long plan title could get there).
            text: { type: 'mrkdwn' as const, text: confirm.length > 300 ? `${confirm.slice(0, 299)}…` : confirm },
            confirm: { type: 'plain_text' as const, text },
            deny: { type: 'plain_text' as const, text: 'Back' },
          },
        }
      : {}),
  };
}
