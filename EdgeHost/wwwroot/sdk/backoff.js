export const DEFAULT_BACKOFF = { initialMs: 250, maxMs: 30_000, factor: 2 };
/**
 * Delay before reconnect attempt `attempt` (0-based): uniform in [0, min(maxMs, initialMs * factor^attempt)]
 * ("full jitter"), so clients dropped together do not come back together.
 */
export function backoffDelay(attempt, options, random = Math.random) {
    const bound = Math.min(options.maxMs, options.initialMs * Math.pow(options.factor, Math.max(0, attempt)));
    return Math.floor(random() * (bound + 1));
}
