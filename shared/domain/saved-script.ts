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
export type SavedScriptResponse = Omit<SavedScriptRecord, 'user_id'>;

export const toSavedScriptResponse = ({ user_id: _user, ...rest }: SavedScriptRecord): SavedScriptResponse =>
  rest;
