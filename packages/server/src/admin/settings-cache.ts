/**
 * Project settings (allowed base URLs, secrets) cached per project for the hot path; dropped on change on every
 * instance, and read again after `ttlMs` or a pub/sub reconnect in case a change message was lost.
 */
import type { Database } from '../infra/database.js';
import { InvalidatedCache } from '../infra/invalidated-cache.js';
import type { SharedState } from '../infra/shared-state.js';
import type { SecretsKey } from './secrets-key.js';
import { getProjectSettings, setProjectSettings, type ProjectSettings } from './settings.js';

const SETTINGS_CHANGED = 'project-settings-changed';

export class ProjectSettingsCache {
  private readonly cache: InvalidatedCache<Required<ProjectSettings>>;

  constructor(
    private readonly db: Database,
    shared: SharedState,
    private readonly key: SecretsKey,
    ttlMs: number,
  ) {
    this.cache = new InvalidatedCache(shared, SETTINGS_CHANGED, { ttlMs, maxEntries: 10_000 });
  }

  start(): Promise<void> {
    return this.cache.start();
  }

  get(projectId: string): Promise<Required<ProjectSettings>> {
    return this.cache.get(projectId, () => getProjectSettings(this.db, this.key, projectId));
  }

  /** Drops the cached settings on every instance (after a change made straight in the database). */
  changed(projectId: string): Promise<void> {
    return this.cache.changed(projectId);
  }

  /** Stores the settings (secrets sealed with the key) and drops the cached ones on every instance. */
  async set(projectId: string, settings: ProjectSettings): Promise<void> {
    await setProjectSettings(this.db, this.key, projectId, settings);
    await this.changed(projectId);
  }
}
