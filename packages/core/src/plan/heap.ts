// A binary min-heap of timed events for the planner's discrete-event loop: (time, then insertion
// order), so simultaneous events run in the order they were scheduled and every run is reproducible.

export interface Timed {
  at: number;
  seq: number;
  run: () => void;
}

export class EventHeap {
  readonly #items: Timed[] = [];
  #seq = 0;

  get size(): number {
    return this.#items.length;
  }

  push(at: number, run: () => void): void {
    const items = this.#items;
    items.push({ at, seq: this.#seq++, run });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i] as Timed, items[parent] as Timed)) break;
      [items[i], items[parent]] = [items[parent] as Timed, items[i] as Timed];
      i = parent;
    }
  }

  pop(): Timed | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && before(items[l] as Timed, items[m] as Timed)) m = l;
        if (r < items.length && before(items[r] as Timed, items[m] as Timed)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m] as Timed, items[i] as Timed];
        i = m;
      }
    }
    return top;
  }
}

const before = (a: Timed, b: Timed) => a.at < b.at || (a.at === b.at && a.seq < b.seq);
