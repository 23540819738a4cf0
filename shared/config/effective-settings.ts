/**
 * The system settings in force: the administrators' saved settings, else the deployment's
 * configuration. Read often (every submission, sign-in and registration), so each process keeps them
 * for a few seconds: a change reaches every function and instance within that time.
 */
import { configuredSettings, type SystemSettings } from '../domain/system-settings';
import type { Platform } from '../platform/platform';

export const SETTINGS_CACHE_MS = 5_000;

const cache = new WeakMap<Platform['store'], { at: number; settings: Promise<SystemSettings> }>();

export function effectiveSettings(platform: Pick<Platform, 'store' | 'config'>): Promise<SystemSettings> {
  const now = Date.now();
  const cached = cache.get(platform.store);
  if (cached && now - cached.at < SETTINGS_CACHE_MS) return cached.settings;
  const settings = platform.store.systemSettings
    .get()
    .then((saved) => saved ?? configuredSettings(platform.config));
  // A failed read is not kept: the next call asks the store again.
  settings.catch(() => cache.delete(platform.store));
  cache.set(platform.store, { at: now, settings });
  return settings;
}

/** Forgets what this process holds, so its next read sees a change it has just made. */
export function forgetEffectiveSettings(platform: Pick<Platform, 'store'>): void {
  cache.delete(platform.store);
}
