/** Project settings (allowed base URLs, secrets) cached per project for the hot path; dropped on change. */
import { getProjectSettings, type ProjectSettings } from './settings.js';
import type { Database } from '../infra/database.js';
import type { SharedState } from '../infra/shared-state.js';
import type { SecretsKey } from './secrets-key.js';

export const SETTINGS_CHANGED = 'project-settings-changed';

export class ProjectSettingsCache {
  private readonly entries = new Map<string, Promise<Required<ProjectSettings>>>();

  constructor(
    private readonly db: Database,
    private readonly shared: SharedState,
    private readonly key: SecretsKey,
  ) {}

  async start(): Promise<void> {
    await this.shared.subscribe(SETTINGS_CHANGED, (projectId) => this.entries.delete(projectId));
  }

  get(projectId: string): Promise<Required<ProjectSettings>> {
    let entry = this.entries.get(projectId);
    if (!entry) {
      const loading = getProjectSettings(this.db, this.key, projectId);
      this.entries.set(projectId, loading);
      loading.catch(() => {
        if (this.entries.get(projectId) === loading) this.entries.delete(projectId);
      });
      entry = loading;
    }
    return entry;
  }

  async changed(projectId: string): Promise<void> {
    this.entries.delete(projectId);
    await this.shared.publish(SETTINGS_CHANGED, projectId);
  }
}
