/** Reconnect delays: exponential backoff with full jitter, capped. */
export interface BackoffOptions {
  /** Upper bound of the first delay, ms. Default 250. */
  initialMs?: number;
  /** Cap of the exponential bound, ms. Default 30,000. */
  maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = { initialMs: 250, maxMs: 30_000, factor: 2 };

/**
 * Delay before reconnect attempt `attempt` (0-based): uniform in [0, min(maxMs, initialMs * factor^attempt)]
 * ("full jitter"), so clients dropped together do not come back together.
 */
export function backoffDelay(attempt: number, options: Required<BackoffOptions>, random: () => number = Math.random): number {
  const bound = Math.min(options.maxMs, options.initialMs * Math.pow(options.factor, Math.max(0, attempt)));
  return Math.floor(random() * (bound + 1));
}
