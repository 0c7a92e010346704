/**
 * A binary min-heap on a numeric key: O(log n) push and pop, O(1) peek. The scheduler keeps one
 * entry per job in it and sleeps on one timer until the smallest key.
 */
export class MinHeap<T extends { readonly at: number }> {
  readonly #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.at <= item.at) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  pop(): T | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length === 0 || last === undefined) return top;
    let i = 0;
    const half = items.length >> 1;
    while (i < half) {
      let child = 2 * i + 1;
      const right = child + 1;
      if (right < items.length && items[right]!.at < items[child]!.at) child = right;
      if (items[child]!.at >= last.at) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }

  clear(): void {
    this.#items.length = 0;
  }
}
