// One shared informer per resource for all controllers of the runtime (client-go's
// SharedInformerFactory): one list+watch and one cache per kind, however many controllers look.
import type { ApiClient } from './apiClient.js';
import { Informer } from './informer.js';
import { apiVersionOf, type Resource } from './resources.js';
import type { KubeObject } from './types.js';

export class InformerFactory {
  private readonly informers = new Map<string, Informer<KubeObject>>();

  constructor(
    private readonly client: ApiClient,
    private readonly log?: (line: string) => void,
  ) {}

  informer<T extends KubeObject>(resource: Resource): Informer<T> {
    const key = `${apiVersionOf(resource)}/${resource.plural}`;
    let inf = this.informers.get(key);
    if (!inf) {
      inf = new Informer<KubeObject>(this.client, resource, { log: this.log });
      this.informers.set(key, inf);
    }
    return inf as unknown as Informer<T>;
  }

  /** Stops and forgets one informer (a custom resource that went away). */
  async drop(resource: Resource): Promise<void> {
    const key = `${apiVersionOf(resource)}/${resource.plural}`;
    const inf = this.informers.get(key);
    this.informers.delete(key);
    await inf?.stop();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    this.informers.clear();
  }
}
