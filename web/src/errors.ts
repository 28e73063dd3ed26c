import { ApiError } from './api';
import { t } from './i18n';

/** Turns an error into the sentence shown to the user, in the current language. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const known = `error.status.${error.status}`;
    const summary = t(known) !== known ? t(known) : t('error.status.other', { status: error.status });
    return `${summary} ${error.body.message}`.trim();
  }
  return t('error.unexpected', { message: String(error) });
}
