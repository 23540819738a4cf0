import * as v from 'valibot';

/** A script a user keeps for later: the text, its runtime, a name and an optional description. */
export interface SavedScriptRecord {
  script_id: string;
  user_id: string;
  name: string;
  script: string;
  lang: string;
  lang_version: string;
  description: string | null;
  created_at: string;
  updated_at: string;
}

/** The fields an owner may change; `undefined` leaves a field as it is. */
export type SavedScriptPatch = Partial<
  Pick<SavedScriptRecord, 'name' | 'script' | 'lang' | 'lang_version' | 'description' | 'updated_at'>
>;

/** `SavedScriptResponse` of the reference API. */
export const SavedScriptResponseSchema = v.object({
  script_id: v.string(),
  name: v.string(),
  script: v.string(),
  lang: v.string(),
  lang_version: v.string(),
  description: v.nullable(v.string()),
  created_at: v.string(),
  updated_at: v.string(),
});
export type SavedScriptResponse = v.InferOutput<typeof SavedScriptResponseSchema>;

export const toSavedScriptResponse = ({ user_id: _user, ...rest }: SavedScriptRecord): SavedScriptResponse =>
  rest;
