// The Worker's view of the site directory: the list lives in the directory Durable Object; each
// isolate keeps a copy and reloads it when it is older than ttlMs (10 s: a site added with the
// admin API takes hits within seconds, as `hush site add` does on Node), through Node's own
// SiteDirectory, so domains match the same way (`www.` ignored, excluded paths compiled).
import { SiteDirectory, type Site } from '../store/sites.ts';
import type { ApiKeyLookup, SiteLookup } from '../server/app.ts';
import { hashKey } from '../store/api-keys.ts';
import type { DirectoryCopy } from './directory-object.ts';

export class EdgeSites implements SiteLookup, ApiKeyLookup {
  private sites: Site[] = [];
  /** API key hash → site id: a key revoked or created is seen within ttlMs, like a site. */
  private keys = new Map<string, number>();
  private shardCounts = new Map<number, number>();
  private readonly directory: SiteDirectory;
  private loadedAt = -Infinity;
  private loading: Promise<void> | null = null;
  /** The last load's failure, or null: /healthz reports it. */
  failure: { since: number; error: string } | null = null;

  constructor(private readonly load: () => Promise<DirectoryCopy>, private readonly ttlMs = 10_000, private readonly clock: () => number = Date.now) {
    this.directory = new SiteDirectory({ list: () => this.sites });
  }

  /** Reloads when stale; undefined when the copy is fresh. Failures keep the old copy. */
  fresh(): Promise<void> | undefined {
    if (this.clock() - this.loadedAt < this.ttlMs) return undefined;
    return this.reload();
  }

  reload(): Promise<void> {
    this.loading ??= this.load().then((copy) => {
      this.sites = copy.sites;
      this.keys = new Map(copy.keys.map((k) => [k.keyHash, k.siteId]));
      this.shardCounts = new Map(copy.shards.map((s) => [s.siteId, s.shards]));
      this.directory.refresh();
      this.loadedAt = this.clock();
      this.failure = null;
    }, (e: unknown) => {
      // The directory holds no visitor data: its errors are safe to log whole.
      console.error(`the site directory could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
      this.failure ??= { since: this.clock(), error: e instanceof Error ? e.name : 'error' };
    }).finally(() => { this.loading = null; });
    return this.loading;
  }

  /** The hit path's lookup (SiteDirectory.get). */
  get(domain: string) {
    return this.directory.get(domain);
  }

  byDomain(domain: string): Site | undefined {
    return this.sites.find((s) => s.domain === domain);
  }

  byId(id: number): Site | undefined {
    return this.sites.find((s) => s.id === id);
  }

  /** How many objects the site's visitors are split over (1 unless made with more). */
  shards(siteId: number): number {
    return this.shardCounts.get(siteId) ?? 1;
  }

  list(): Site[] {
    return this.sites;
  }

  /** ApiKeyRepo.siteFor: the site a bearer key grants, by the key's hash. */
  siteFor(key: string): { siteId: number; domain: string } | undefined {
    const id = this.keys.get(hashKey(key));
    const site = id === undefined ? undefined : this.byId(id);
    return site && { siteId: site.id, domain: site.domain };
  }
}
