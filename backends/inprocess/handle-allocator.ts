// Handle values for one session: u32 > 0, lowest free first. Freed values go
// into a binary min-heap; when it is empty the next never-used value is taken.
export class HandleAllocator {
  private readonly freed: number[] = [];
  private nextUnused = 1;

  allocate(): number {
    const heap = this.freed;
    if (heap.length === 0) return this.nextUnused++;
    const lowest = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      // sift `last` down from the root
      let at = 0;
      for (;;) {
        const left = 2 * at + 1;
        if (left >= heap.length) break;
        const right = left + 1;
        const child = right < heap.length && heap[right] < heap[left] ? right : left;
        if (heap[child] >= last) break;
        heap[at] = heap[child];
        at = child;
      }
      heap[at] = last;
    }
    return lowest;
  }

  release(handle: number): void {
    if (handle === this.nextUnused - 1) {
      // the highest value goes back to the unused range, keeping the heap small
      this.nextUnused--;
      this.trimTop();
      return;
    }
    const heap = this.freed;
    let at = heap.length;
    heap.push(handle);
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (heap[parent] <= handle) break;
      heap[at] = heap[parent];
      at = parent;
    }
    heap[at] = handle;
  }

  // After the top value was returned, freed values just below it also belong
  // to the unused range; they stay in the heap (still correct, since the heap
  // minimum is preferred) unless the heap holds exactly the top of the range.
  private trimTop(): void {
    const heap = this.freed;
    while (heap.length > 0 && this.nextUnused > 1) {
      // cheap check only for the common pattern of closing in reverse order
      const candidate = this.nextUnused - 1;
      if (heap.length === 1 && heap[0] === candidate) {
        heap.pop();
        this.nextUnused--;
        continue;
      }
      break;
    }
  }
}
