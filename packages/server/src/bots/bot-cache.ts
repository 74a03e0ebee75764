/**
 * Bots and their code, cached so a warm invocation reads nothing from the database. Any write to a Bot (FHIR
 * REST, $deploy, rule deploys, rollbacks) publishes `bot-changed`; every instance drops its entry (Redis pub/sub
 * when configured) and the runtime drops the bot's isolate. Entries are also read again after `ttlMs` and after
 * pub/sub reconnects, so a lost message delays new code by that much at most (the runtime sees the new code
 * version and replaces the isolate).
 */
import type { Bot, Resource } from '@medplum/fhirtypes';
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
  return announcing(repo, {
    bot: (id) => cache.changed(projectId, id),
    binary: (id) => cache.binaryChanged(projectId, id),
  });
}

interface Announce {
  bot(id: string): Promise<void>;
  /** A Binary replaced or deleted (a new one runs nowhere yet). */
  binary(id: string): Promise<void>;
}

/** Inside a transaction, what was written is announced once it commits: before, a reload would read the old one. */
function announcing(repo: Repository, changed: Announce): Repository {
  const announce = async <T extends Resource>(resource: T, replaced: boolean): Promise<T> => {
    if (resource.id && resource.resourceType === 'Bot') await changed.bot(resource.id);
    if (resource.id && resource.resourceType === 'Binary' && replaced) await changed.binary(resource.id);
    return resource;
  };
  return {
    ...repo,
    create: async (r) => announce(await repo.create(r), false),
    createMany: async (resources, options) => {
      const created = await repo.createMany(resources, options);
      for (const resource of created) await announce(resource, false);
      return created;
    },
    update: async (r, o) => announce(await repo.update(r, o), true),
    delete: async (type, id, ifMatch) => {
      await repo.delete(type, id, ifMatch);
      if (type === 'Bot') await changed.bot(id);
      if (type === 'Binary') await changed.binary(id);
    },
    transaction: async (fn) => {
      const bots = new Set<string>();
      const binaries = new Set<string>();
      const result = await repo.transaction((tx) =>
        fn(
          announcing(tx, {
            bot: async (id) => void bots.add(id),
            binary: async (id) => void binaries.add(id),
          }),
        ),
      );
      for (const id of bots) await changed.bot(id);
      for (const id of binaries) await changed.binary(id);
      return result;
    },
  };
}
