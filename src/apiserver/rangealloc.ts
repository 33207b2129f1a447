/**
 * A range of integers handed out one owner at a time: the bookkeeping behind Service ClusterIPs
 * (IPv4 addresses as numbers) and node ports, as Kubernetes' bitmap allocators keep it
 * (`pkg/registry/core/service/allocator`). Like Kubernetes since 1.26 (ServiceIPStaticSubrange,
 * ServiceNodePortStaticSubrange), the range is split in a lower *static* band, which dynamic
 * allocation uses only when the upper band is full, so that users who pick a value by hand pick
 * it from the lower band without racing the allocator.
 *
 * Not reentrant across awaits by design: every method is synchronous, so on Node's single thread
 * two concurrent requests can never be handed the same value.
 */

export type AllocateResult = 'ok' | 'allocated' | 'not-in-range';

export class RangeAllocator {
  private readonly owners = new Map<number, string>();

  /**
   * @param first lowest value handed out
   * @param last highest value handed out
   * @param staticBand how many values at the bottom dynamic allocation leaves for last
   * @param random `random(n)` → an integer in [0, n); injectable for tests
   */
  constructor(
    readonly first: number,
    readonly last: number,
    private readonly staticBand: number,
    private readonly random: (n: number) => number = (n) => Math.floor(Math.random() * n),
  ) {}

  get size(): number {
    return this.last - this.first + 1;
  }

  /** How many values are taken. */
  get used(): number {
    return this.owners.size;
  }

  has(v: number): boolean {
    return this.owners.has(v);
  }

  ownerOf(v: number): string | undefined {
    return this.owners.get(v);
  }

  inRange(v: number): boolean {
    return Number.isInteger(v) && v >= this.first && v <= this.last;
  }

  /** Takes `v` for `owner`; taking a value the same owner already holds is `ok`. */
  allocate(v: number, owner: string): AllocateResult {
    if (!this.inRange(v)) return 'not-in-range';
    const cur = this.owners.get(v);
    if (cur !== undefined && cur !== owner) return 'allocated';
    this.owners.set(v, owner);
    return 'ok';
  }

  /**
   * Takes a free value for `owner` — a random one from the upper band, else from the static
   * band — skipping values `skip` refuses; undefined when none is left.
   */
  allocateNext(owner: string, skip: (v: number) => boolean = () => false): number | undefined {
    const band = Math.min(this.staticBand, this.size);
    const bands: [number, number][] = [[this.first + band, this.last], [this.first, this.first + band - 1]];
    for (const [lo, hi] of bands) {
      const n = hi - lo + 1;
      if (n <= 0) continue;
      const start = this.random(n);
      for (let i = 0; i < n; i++) {
        const v = lo + ((start + i) % n);
        if (this.owners.has(v) || skip(v)) continue;
        this.owners.set(v, owner);
        return v;
      }
    }
    return undefined;
  }

  /** Gives `v` back, if `owner` (when given) holds it. */
  release(v: number, owner?: string): void {
    if (owner === undefined || this.owners.get(v) === owner) this.owners.delete(v);
  }
}

/** Kubernetes' static band of a service CIDR: min(max(16, size/16), 256) addresses. */
export const ipStaticBand = (size: number): number => Math.min(Math.max(16, Math.floor(size / 16)), 256);
/** Kubernetes' static band of a node-port range: min(max(16, size/32), 128) ports. */
export const portStaticBand = (size: number): number => Math.min(Math.max(16, Math.floor(size / 32)), 128);
