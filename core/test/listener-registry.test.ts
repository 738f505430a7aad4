import { describe, expect, it } from 'vitest';
import { JobConfigurationError } from '../src/config/job-configuration-error.js';
import {
  createJobListeners,
  type ElasticJobListener,
  jobListenerTypes,
  registerJobListener,
} from '../src/listener/index.js';

function listenerOf(type: string, order?: number): ElasticJobListener {
  return { type, ...(order === undefined ? {} : { order }), beforeJobExecuted() {}, afterJobExecuted() {} };
}

describe('job listener registry', () => {
  it('builds fresh listeners sorted by order, unset last, ties in configured order', () => {
    const unregister = [
      registerJobListener('audit', () => listenerOf('audit', 5)),
      registerJobListener('metrics', () => listenerOf('metrics', -1)),
      registerJobListener('plain-a', () => listenerOf('plain-a')),
      registerJobListener('plain-b', () => listenerOf('plain-b')),
      registerJobListener('also-five', () => listenerOf('also-five', 5)),
    ];
    try {
      const types = ['plain-b', 'audit', 'plain-a', 'also-five', 'metrics'];
      const listeners = createJobListeners(types);
      expect(listeners.map((l) => l.type)).toEqual(['metrics', 'audit', 'also-five', 'plain-b', 'plain-a']);
      expect(createJobListeners(types)[0]).not.toBe(listeners[0]);
      expect(createJobListeners([])).toEqual([]);
    } finally {
      for (const remove of unregister) remove();
    }
    expect(jobListenerTypes()).toEqual([]);
  });

  it('rejects unknown types naming jobListenerTypes, the unknown and the registered types', () => {
    expect(() => createJobListeners(['mail'])).toThrow(
      "jobListenerTypes: 'mail' not registered; accepted: (none registered)",
    );
    const unregister = registerJobListener('audit', () => listenerOf('audit'));
    try {
      const create = () => createJobListeners(['audit', 'mail', 'sms']);
      expect(create).toThrow("jobListenerTypes: 'mail', 'sms' not registered; accepted: audit");
      expect(create).toThrow(JobConfigurationError);
      expect(create).toThrow(expect.objectContaining({ field: 'jobListenerTypes' }));
      expect(() => createJobListeners(['audit', 'audit'])).toThrow(
        "jobListenerTypes lists 'audit' more than once",
      );
    } finally {
      unregister();
    }
  });

  it('refuses empty and duplicate registrations', () => {
    expect(() => registerJobListener('', () => listenerOf(''))).toThrow(TypeError);
    const unregister = registerJobListener('audit', () => listenerOf('audit'));
    try {
      expect(() => registerJobListener('audit', () => listenerOf('audit'))).toThrow(
        /'audit' is already registered/,
      );
    } finally {
      unregister();
      unregister();
    }
    expect(jobListenerTypes()).toEqual([]);
  });
});
