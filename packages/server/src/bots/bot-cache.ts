/**
 * Bots and their code, cached so a warm invocation reads nothing from the database. Any write to a Bot (FHIR
 * REST, $deploy, rule deploys, rollbacks) publishes `bot-changed`; every instance drops its entry (Redis pub/sub
 * when configured) and the runtime drops the bot's isolate. Entries are also read again after `ttlMs` and after
 * pub/sub reconnects, so a lost message delays new code by that much at most (the runtime sees the new code
 * version and replaces the isolate).
 */
import type { Bot } from '@medplum/fhirtypes';
import { projectSystemAccess } from '../auth/access.js';
import { createRepository, type Repository } from '../fhir/repository.js';
import type { Database } from '../infra/database.js';
import { InvalidatedCache } from '../infra/invalidated-cache.js';
import type { SharedState } from '../infra/shared-state.js';
import type { SandboxRuntime } from '@hookbot/runtime';
import { loadBotCode, type LoadedCode } from './code.js';
import { runtimeKey } from './run-bot.js';

const BOT_CHANGED = 'bot-changed';
/** A Binary replaced or deleted, announced on the same channel: bot ids never contain `:`. */
const BINARY_KEY = 'binary:';

export interface CachedBot {
  bot: Bot;
  /** Loaded lazily: discovery needs the Bot only. */
  code?: LoadedCode;
}

export class BotCache {
  private readonly cache: InvalidatedCache<CachedBot>;

  constructor(
    private readonly db: Database,
    shared: SharedState,
    runtime: SandboxRuntime,
    private readonly baseUrl: string,
    ttlMs: number,
    maxEntries = 1000,
  ) {
    // Keys are `${projectId}/${botId}`, which is also the bot's key in the runtime.
    this.cache = new InvalidatedCache(shared, BOT_CHANGED, {
      ttlMs,
      maxEntries,
      onDrop: (key) => {
        if (!key.startsWith(BINARY_KEY)) return runtime.invalidate(key);
        // Which bots run that Binary's code is not known here: every bot loads again, and the runtime replaces an
        // isolate whose code version (which hashes the code) changed.
        this.cache.clear();
      },
    });
  }

  start(): Promise<void> {
    return this.cache.start();
  }

  systemRepo(projectId: string): Repository {
    return createRepository(this.db, projectSystemAccess(projectId), { baseUrl: this.baseUrl });
  }

  /** The Bot (404 when missing or in another project). */
  get(projectId: string, botId: string): Promise<CachedBot> {
    return this.cache.get(runtimeKey(projectId, botId), async () => ({
      bot: await this.systemRepo(projectId).read<Bot>('Bot', botId),
    }));
  }

  async getWithCode(projectId: string, botId: string): Promise<Required<CachedBot>> {
    const entry = await this.get(projectId, botId);
    entry.code ??= await loadBotCode(this.systemRepo(projectId), entry.bot);
    return entry as Required<CachedBot>;
  }

  /** Tells every instance that a Binary changed, so that code loaded from it is read again. */
  binaryChanged(projectId: string, binaryId: string): Promise<void> {
    return this.cache.changed(`${BINARY_KEY}${projectId}/${binaryId}`);
  }

  /** Tells every instance that a bot changed. */
  changed(projectId: string, botId: string): Promise<void> {
    return this.cache.changed(runtimeKey(projectId, botId));
  }
}

/** Wraps a repository so that every Bot write, and every Binary replaced or deleted, announces itself to the cache. */
export function notifyingRepository(repo: Repository, cache: BotCache): Repository {
  const { projectId } = repo.access;
  const announce = async (type: string, id: string | undefined, replaced: boolean): Promise<void> => {
    if (type === 'Bot' && id) await cache.changed(projectId, id);
    if (type === 'Binary' && id && replaced) await cache.binaryChanged(projectId, id);
  };
  return {
    ...repo,
    create: async (r) => {
      const created = await repo.create(r);
      await announce(created.resourceType, created.id, false);
      return created;
    },
    update: async (r, o) => {
      const updated = await repo.update(r, o);
      await announce(updated.resourceType, updated.id, true);
      return updated;
    },
    delete: async (type, id) => {
      await repo.delete(type, id);
      await announce(type, id, true);
    },
  };
}
