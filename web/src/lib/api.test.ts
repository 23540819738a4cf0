import { describe, expect, it } from 'vitest';
import { ApiError, describeError, errorMessage, readCookie } from './api';

describe('errorMessage', () => {
  it('uses a string detail as is', () => {
    expect(errorMessage(409, { detail: 'Username already registered', type: 'ConflictError' })).toBe(
      'Username already registered',
    );
  });

  it('turns a 422 issue list into "field: message" sentences without the body/query prefix', () => {
    const body = {
      detail: [
        { loc: ['body', 'lang_version'], msg: 'unsupported version', type: 'value_error' },
        {
          loc: ['body', 'script'],
          msg: 'String should have at most 50000 characters',
          type: 'string_too_long',
        },
      ],
    };
    expect(errorMessage(422, body)).toBe(
      'version: unsupported version; script: String should have at most 50000 characters',
    );
  });

  it('falls back to a sentence per status when the body has no detail', () => {
    expect(errorMessage(423, null)).toMatch(/locked/);
    expect(errorMessage(429, {})).toMatch(/Too many requests/);
    expect(errorMessage(502, 'not json')).toBe('The server had a problem (HTTP 502).');
  });
});

describe('describeError', () => {
  it('adds the wait time to rate-limit errors', () => {
    expect(describeError(new ApiError(429, 'Rate limit exceeded.', 12.2))).toBe(
      'Rate limit exceeded. Try again in 13 s.',
    );
  });

  it('passes other errors through', () => {
    expect(describeError(new ApiError(401, 'You are not signed in.'))).toBe('You are not signed in.');
    expect(describeError(new Error('boom'))).toBe('boom');
  });
});

describe('readCookie', () => {
  it('finds a cookie among others and decodes it', () => {
    expect(readCookie('csrf_token', 'a=1; csrf_token=abc%3D%3D; b=2')).toBe('abc==');
    expect(readCookie('csrf_token', 'xcsrf_token=no; other=1')).toBeNull();
    expect(readCookie('csrf_token', '')).toBeNull();
  });
});
