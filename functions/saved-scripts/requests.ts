/** What a saved-scripts request may carry: names, text and runtimes within bounds, each checked by valibot. */
import * as v from 'valibot';
import { MAX_SCRIPT_CHARS } from '../../shared/executions/submission';
import { queryInt } from '../../shared/http/params';

export const MAX_NAME_CHARS = 100;
export const MAX_DESCRIPTION_CHARS = 1000;
/** Enough for any real collection; it keeps one account from filling the store. */
export const MAX_SCRIPTS_PER_USER = 1000;

const Name = v.pipe(
  v.string('name must be a string'),
  v.trim(),
  v.minLength(1, 'name must not be empty'),
  v.maxLength(MAX_NAME_CHARS, `name must be at most ${MAX_NAME_CHARS} characters`),
  v.regex(/^[^\p{Cc}]*$/u, 'name must not contain control characters'),
);

/** The same bound as a run: whatever is saved can also be run. */
const ScriptText = v.pipe(
  v.string('script must be a string'),
  v.minLength(1, 'script must not be empty'),
  v.maxLength(MAX_SCRIPT_CHARS, `script must be at most ${MAX_SCRIPT_CHARS.toLocaleString('en')} characters`),
);

const Lang = v.pipe(v.string('lang must be a string'), v.maxLength(32, 'lang must be at most 32 characters'));
const LangVersion = v.pipe(
  v.string('lang_version must be a string'),
  v.maxLength(32, 'lang_version must be at most 32 characters'),
);
const Description = v.pipe(
  v.string('description must be a string'),
  v.maxLength(MAX_DESCRIPTION_CHARS, `description must be at most ${MAX_DESCRIPTION_CHARS} characters`),
);

/** `SavedScriptCreateRequest`; without a version the newest one of the language is taken. */
export const CreateRequestSchema = v.object({
  name: Name,
  script: ScriptText,
  lang: v.optional(Lang, 'python'),
  lang_version: v.nullish(LangVersion),
  description: v.nullish(Description),
});

/**
 * `SavedScriptUpdate`: every field optional, and null means "leave it" as in the reference. Its
 * `updated_at` is the server's to set, so a client's value is ignored.
 */
export const UpdateRequestSchema = v.object({
  name: v.nullish(Name),
  script: v.nullish(ScriptText),
  lang: v.nullish(Lang),
  lang_version: v.nullish(LangVersion),
  description: v.nullish(Description),
});

export const ListQuerySchema = v.object({
  limit: queryInt(1, 500, 100),
  offset: queryInt(0, Number.MAX_SAFE_INTEGER, 0),
});
