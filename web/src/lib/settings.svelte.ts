/**
 * The signed-in user's settings, from /user/settings: the theme is applied to the page and the editor
 * preferences to CodeMirror. Signed out, the app keeps its local theme and the default editor.
 */
import { request } from './api';
import { setTheme, theme } from './theme.svelte';
import type { EditorSettings, ThemeChoice, UserSettings } from './types';

export const DEFAULT_EDITOR: EditorSettings = {
  font_size: 14,
  tab_size: 4,
  use_tabs: false,
  word_wrap: true,
  show_line_numbers: true,
};

class SettingsState {
  current = $state<UserSettings | null>(null);
  editor = $derived<EditorSettings>(this.current?.editor ?? DEFAULT_EDITOR);
}

export const settings = new SettingsState();

/** Takes settings the server answered with and applies what the page shows. */
export function adoptSettings(next: UserSettings): void {
  settings.current = next;
  if (next.theme !== theme.mode) setTheme(next.theme);
}

export async function loadSettings(): Promise<void> {
  let loaded: UserSettings;
  try {
    loaded = await request<UserSettings>('/user/settings/');
  } catch {
    return; // the defaults stay; the settings page reports the problem when opened
  }
  // Someone who never saved settings keeps the theme they picked before signing in, from now on stored.
  if (loaded.version === 0 && theme.mode !== loaded.theme) {
    settings.current = loaded;
    await saveTheme(theme.mode);
    return;
  }
  adoptSettings(loaded);
}

export function forgetSettings(): void {
  settings.current = null;
}

export async function saveSettings(patch: Partial<UserSettings>): Promise<UserSettings> {
  const next = await request<UserSettings>('/user/settings/', { method: 'PUT', json: patch });
  adoptSettings(next);
  return next;
}

/** Remembers a theme picked in the header; signed out there is nothing to remember it in. */
export async function saveTheme(mode: ThemeChoice): Promise<void> {
  if (!settings.current) return;
  try {
    adoptSettings(
      await request<UserSettings>('/user/settings/theme', { method: 'PUT', json: { theme: mode } }),
    );
  } catch {
    // The page already shows the theme; it is only not stored, and the next change tries again.
  }
}
