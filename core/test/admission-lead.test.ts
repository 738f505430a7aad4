import { describe, expect, it } from 'vitest';
import { ManualClock, TimerService } from '../src/index.js';
import {
  ADMISSION_LEAD_MARGIN_MS,
  AdmissionLead,
  LEAD_WINDOW_MS,
  MAX_ADMISSION_LEAD_MS,
} from '../src/kernel/trigger/admission-lead.js';

const T0 = Date.parse('2026-03-01T00:00:00.000Z');

describe('AdmissionLead', () => {
  it('is the margin alone before any preparation was measured', () => {
    expect(new AdmissionLead(new ManualClock(T0)).leadMs).toBe(ADMISSION_LEAD_MARGIN_MS);
  });

  it('is 1.5 × the slowest recent preparation plus the margin, capped', () => {
    const lead = new AdmissionLead(new ManualClock(T0));
    lead.record(10);
    lead.record(40);
    lead.record(20);
    expect(lead.leadMs).toBe(60 + ADMISSION_LEAD_MARGIN_MS);
    lead.record(-5); // a clock stepped back counts as nothing
    expect(lead.leadMs).toBe(60 + ADMISSION_LEAD_MARGIN_MS);
    lead.record(10_000);
    expect(lead.leadMs).toBe(MAX_ADMISSION_LEAD_MS);
  });

  it('remembers a slow preparation for the rest of its window and the next one, then forgets it', async () => {
    const clock = new ManualClock(T0);
    const lead = new AdmissionLead(clock);
    lead.record(100);
    await clock.advance(LEAD_WINDOW_MS);
    lead.record(4);
    expect(lead.leadMs).toBe(150 + ADMISSION_LEAD_MARGIN_MS);
    await clock.advance(LEAD_WINDOW_MS);
    expect(lead.leadMs).toBe(6 + ADMISSION_LEAD_MARGIN_MS);
    await clock.advance(3 * LEAD_WINDOW_MS);
    expect(lead.leadMs).toBe(ADMISSION_LEAD_MARGIN_MS);
  });

  it('is one per timer service: the jobs of a process share it', () => {
    const timers = new TimerService(new ManualClock(T0));
    expect(AdmissionLead.of(timers)).toBe(AdmissionLead.of(timers));
    expect(AdmissionLead.of(timers)).not.toBe(AdmissionLead.of(new TimerService(new ManualClock(T0))));
  });
});
