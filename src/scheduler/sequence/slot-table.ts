import type { Sequence } from "./sequence.ts";

/**
 * Which sequence holds which slot of which instance, and the backlog of new
 * sequences waiting for one. New sequences go to the instance with the most
 * free slots, so load spreads; a freed slot goes to the oldest waiter.
 */
export class SlotTable {
  private readonly table: (Sequence | undefined)[][];
  private readonly backlog: Sequence[] = [];

  constructor(
    instances: number,
    readonly slotsPerInstance: number,
    readonly backlogLimit: number,
  ) {
    this.table = Array.from({ length: instances }, () =>
      Array.from({ length: slotsPerInstance }, () => undefined),
    );
  }

  get total(): number {
    return this.table.length * this.slotsPerInstance;
  }

  /** The slots of one instance, by slot index. */
  of(instance: number): readonly (Sequence | undefined)[] {
    return this.table[instance] ?? [];
  }

  /** Gives a sequence a slot; false when every slot is taken. */
  assign(sequence: Sequence): boolean {
    let best: number | undefined;
    let bestFree = 0;
    this.table.forEach((slots, instance) => {
      const free = slots.filter((slot) => slot === undefined).length;
      if (free > bestFree) {
        best = instance;
        bestFree = free;
      }
    });
    if (best === undefined) return false;
    const slots = this.table[best] as (Sequence | undefined)[];
    const slot = slots.indexOf(undefined);
    slots[slot] = sequence;
    sequence.instance = best;
    sequence.slot = slot;
    return true;
  }

  /** Puts a sequence in the backlog; false when the backlog is full. */
  wait(sequence: Sequence): boolean {
    if (this.backlog.length >= this.backlogLimit) return false;
    this.backlog.push(sequence);
    return true;
  }

  /** Frees a sequence's slot (or backlog place) and hands the slot to the oldest waiter. */
  free(sequence: Sequence): void {
    const waiting = this.backlog.indexOf(sequence);
    if (waiting >= 0) this.backlog.splice(waiting, 1);
    if (sequence.instance !== undefined && sequence.slot !== undefined) {
      const slots = this.table[sequence.instance] as (Sequence | undefined)[];
      if (slots[sequence.slot] === sequence) slots[sequence.slot] = undefined;
      sequence.instance = undefined;
      sequence.slot = undefined;
    }
    while (this.backlog.length > 0 && this.assign(this.backlog[0] as Sequence)) this.backlog.shift();
  }
}
