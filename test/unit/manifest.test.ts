import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { App } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ACTIONS } from '../../src/bot/render.js';
import { registerHandlers } from '../../src/handlers/index.js';
import type { HandlerContext } from '../../src/handlers/context.js';
import { ROOT } from '../support/env.js';

interface Manifest {
  display_information: { name: string; description?: string; long_description?: string };
  features: {
    bot_user: { display_name: string; always_online?: boolean };
    slash_commands: Array<{ command: string; url: string; description: string; usage_hint?: string; should_escape: boolean }>;
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    interactivity: { is_enabled: boolean; request_url: string };
    org_deploy_enabled: boolean;
    socket_mode_enabled: boolean;
    token_rotation_enabled: boolean;
    event_subscriptions?: { request_url: string };
  };
}

const manifest = parse(readFileSync(path.join(ROOT, 'manifest.yml'), 'utf8')) as Manifest;

/** What the handlers register on Bolt, recorded by a stand-in App. */
function registered(): { commands: string[]; actions: string[] } {
  const commands: string[] = [];
  const actions: string[] = [];
  const app = {
    command: (name: string) => void commands.push(name),
    action: (id: string | { action_id: string }) => void actions.push(typeof id === 'string' ? id : id.action_id),
    view: () => undefined,
    event: () => undefined,
    shortcut: () => undefined,
    options: () => undefined,
    message: () => undefined,
    use: () => undefined,
    error: () => undefined,
  };
  registerHandlers(app as unknown as App, {} as HandlerContext);
  return { commands, actions };
}

describe('manifest.yml', () => {
  it('is a Slack app manifest for HTTP mode with the required settings', () => {
    expect(manifest.display_information.name).toBe('ml-rollback');
    expect(manifest.display_information.description!.length).toBeLessThanOrEqual(140);
    // Slack rejects a long_description outside 175…4000 characters.
    expect(manifest.display_information.long_description!.length).toBeGreaterThanOrEqual(175);
    expect(manifest.display_information.long_description!.length).toBeLessThanOrEqual(4000);
    expect(manifest.features.bot_user.display_name).toBe('ml-rollback');
    expect(manifest.settings).toMatchObject({ interactivity: { is_enabled: true }, org_deploy_enabled: false, socket_mode_enabled: false, token_rotation_enabled: false });
    expect(manifest.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['commands', 'chat:write', 'usergroups:read', 'channels:read']));
  });

  it('declares /ml-rollback with a usage hint and unescaped text', () => {
    expect(manifest.features.slash_commands).toHaveLength(1);
    const [cmd] = manifest.features.slash_commands;
    expect(cmd).toMatchObject({ command: '/ml-rollback', should_escape: false });
    expect(cmd!.description.length).toBeLessThanOrEqual(100);
    expect(cmd!.usage_hint!.length).toBeLessThanOrEqual(1000);
  });

  it('sends every request to /slack/events over https', () => {
    const urls = [...manifest.features.slash_commands.map((c) => c.url), manifest.settings.interactivity.request_url, manifest.settings.event_subscriptions?.request_url].filter(
      (u): u is string => u !== undefined,
    );
    expect(urls.length).toBeGreaterThanOrEqual(2);
    for (const u of urls) expect(u).toMatch(/^https:\/\/[^/]+\/slack\/events$/);
  });

  it('every slash command in the manifest has a handler, and every handled command is in the manifest', () => {
    const { commands } = registered();
    expect(commands.sort()).toEqual(manifest.features.slash_commands.map((c) => c.command).sort());
  });

  it('every button the bot renders has a handler', () => {
    const { actions } = registered();
    for (const id of Object.values(ACTIONS)) expect(actions, id).toContain(id);
  });
});
