import { describe, expect, it } from 'vitest';
import {
  ADMISSION_LEAD_MARGIN_MS,
  AdmissionLead,
  LEAD_SAMPLE_COUNT,
  MAX_ADMISSION_LEAD_MS,
} from '../src/kernel/trigger/admission-lead.js';

describe('AdmissionLead', () => {
  it('is the margin alone before any preparation was measured', () => {
    expect(new AdmissionLead().leadMs).toBe(ADMISSION_LEAD_MARGIN_MS);
  });

  it('is 1.5 × the slowest recent preparation plus the margin, capped', () => {
    const lead = new AdmissionLead();
    lead.record(10);
    lead.record(40);
    lead.record(20);
    expect(lead.leadMs).toBe(60 + ADMISSION_LEAD_MARGIN_MS);
    lead.record(10_000);
    expect(lead.leadMs).toBe(MAX_ADMISSION_LEAD_MS);
    lead.record(-5); // a clock stepped back counts as 0
    expect(lead.leadMs).toBe(MAX_ADMISSION_LEAD_MS);
  });

  it(`forgets a slow preparation after ${LEAD_SAMPLE_COUNT} faster ones`, () => {
    const lead = new AdmissionLead();
    lead.record(100);
    for (let i = 0; i < LEAD_SAMPLE_COUNT - 1; i++) lead.record(4);
    expect(lead.leadMs).toBe(150 + ADMISSION_LEAD_MARGIN_MS);
    lead.record(4);
    expect(lead.leadMs).toBe(6 + ADMISSION_LEAD_MARGIN_MS);
  });
});
