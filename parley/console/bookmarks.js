// Bookmarks on the conversation page: the pure part (no DOM), so it is tested without a
// browser (tests/console/test_bookmarks.py runs it in Node).

/** Used when the app set no /intelligence/bookmarks/duration (the server needs one). */
export const FALLBACK_DURATION = 30;

/** The app's default bookmark length from GET /v1/manage/settings' answer. */
export function defaultDuration(settings) {
  const value = settings && settings.settings && settings.settings.intelligence
    && settings.settings.intelligence.bookmarks && settings.settings.intelligence.bookmarks.duration;
  return Number.isInteger(value) && value > 0 ? value : FALLBACK_DURATION;
}

/**
 * The POST body of a bookmark starting at playback time ``at`` (seconds): whole seconds,
 * as Symbl types them; the window is shortened to end with the conversation.
 */
export function bookmarkBody({ at, label, description, duration, length, user }) {
  const begin = Math.max(0, Math.floor(at || 0));
  let seconds = Math.max(1, Math.floor(duration || FALLBACK_DURATION));
  if (length > begin) seconds = Math.max(1, Math.min(seconds, Math.ceil(length) - begin));
  return { label: label.trim(), description: description.trim(), user, beginTimeOffset: begin, duration: seconds };
}

/** Bookmarks in the order they happen in the conversation (then by label). */
export function inOrder(bookmarks) {
  return [...bookmarks].sort((a, b) => a.beginTimeOffset - b.beginTimeOffset || a.label.localeCompare(b.label));
}
