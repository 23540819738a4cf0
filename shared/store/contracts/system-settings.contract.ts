import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/config';
import { configuredSettings } from '../../domain/system-settings';
import { type MakeRepositories, useRepositories } from './fixtures';

export function describeSystemSettingsRepositoryContract(
  adapterName: string,
  make: MakeRepositories<'systemSettings'>,
): void {
  describe(`SystemSettingsRepository contract: ${adapterName}`, () => {
    const repos = useRepositories(make);
    const settings = {
      ...configuredSettings(loadConfig({})),
      max_concurrent_executions: 3,
      sampling_rate: 0.25,
    };

    it('has none until saved, keeps the last saved exactly, and forgets them when cleared', async () => {
      expect(await repos().systemSettings.get()).toBeNull();
      await repos().systemSettings.save(settings);
      await repos().systemSettings.save({ ...settings, password_min_length: 12 });
      expect(await repos().systemSettings.get()).toEqual({ ...settings, password_min_length: 12 });
      await repos().systemSettings.clear();
      expect(await repos().systemSettings.get()).toBeNull();
      await repos().systemSettings.clear();
    });
  });
}
