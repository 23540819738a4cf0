import { describe, expect, it } from 'vitest';
import { exportFileName, languageForFile, nameFromFile } from './scripts';

describe('languageForFile', () => {
  it.each([
    ['main.py', 'python'],
    ['APP.JS', 'node'],
    ['tool.mjs', 'node'],
    ['x.rb', 'ruby'],
    ['main.go', 'go'],
    ['run.sh', 'bash'],
    ['notes.txt', null],
    ['.py', null],
    ['Makefile', null],
  ])('%s → %s', (name, lang) => {
    expect(languageForFile(name)).toBe(lang);
  });
});

describe('exportFileName', () => {
  it('adds the extension of the language once', () => {
    expect(exportFileName('fizzbuzz', 'python')).toBe('fizzbuzz.py');
    expect(exportFileName('fizzbuzz.py', 'python')).toBe('fizzbuzz.py');
    expect(exportFileName('server', 'node')).toBe('server.js');
    expect(exportFileName('data', 'cobol')).toBe('data.txt');
  });

  it('keeps path and control characters out of the name', () => {
    expect(exportFileName('../etc/passwd', 'bash')).toBe('_etc_passwd.sh');
    expect(exportFileName('a:b*c?\u0007', 'go')).toBe('a_b_c_.go');
    expect(exportFileName('   ', 'ruby')).toBe('script.rb');
  });
});

describe('nameFromFile', () => {
  it('uses the file name within the bound on names', () => {
    expect(nameFromFile('main.py')).toBe('main.py');
    expect(nameFromFile(`${'n'.repeat(120)}.py`)).toHaveLength(100);
    expect(nameFromFile('  ')).toBe('Uploaded script');
  });
});
